"""The member's honours record at their home node: titles, rewards, proposal rewards and
stipend payments, one row per honour and member, learnt from `HonourGranted`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from awards.models.base import Base
from shared.db import UTCDateTime


class Honour(Base):
    """One member's share of one honour (a team's honour is one row per member).

    Pseudonymous like every awards table: the member id, never a name or contact data, so
    it stays when the member leaves the union. `record_id` is derived from (honour, member),
    so a redelivered grant, or the same honour arriving with a moving member, is the same row.
    """

    __tablename__ = "honours"
    __table_args__ = (
        UniqueConstraint("honour_id", "member_id", name="uq_honours_honour_id"),
        # A member's record, and an org's list, newest first.
        Index("ix_honours_member_id_granted_at", "member_id", "granted_at"),
        Index("ix_honours_home_org_granted_at", "home_org", "granted_at"),
    )

    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    honour_id: Mapped[str] = mapped_column(String(100))
    member_id: Mapped[str] = mapped_column(String(36))
    # The member's home org when it was granted (or when it arrived with them from another
    # node): an org's cadres list the honours earned in their subtree by it.
    home_org: Mapped[str] = mapped_column(String(64))
    # HonourKind and SchemeKind values; plain strings so that a new kind needs no migration.
    kind: Mapped[str] = mapped_column(String(32))
    scheme_id: Mapped[str | None] = mapped_column(String(100))
    scheme_kind: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    source_id: Mapped[str] = mapped_column(String(100))
    granting_org: Mapped[str] = mapped_column(String(64))
    team_name: Mapped[str | None] = mapped_column(String(200))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    benefits: Mapped[list[str]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(2000))
    # The round's or period's year; else the year it was granted (federation zone).
    year: Mapped[int] = mapped_column(Integer)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ce_id: Mapped[str] = mapped_column(String(36))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
