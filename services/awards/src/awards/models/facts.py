"""Eligibility facts: what members did, learnt from enrollment events at their home node."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from awards.models.base import Base
from shared.db import UTCDateTime


class EligibilityFact(Base):
    """Something a member did that an award may cite, learnt from one event.

    Kept only at the member's home node, pseudonymous (`member_id`, never a name). The
    primary key is the source event's `ce_id`, so a nomination can cite exactly where a
    fact came from and a replayed event can never become a second fact.
    """

    __tablename__ = "eligibility_facts"
    # Roll-ups select by home org and year: this index serves both.
    __table_args__ = (
        Index("ix_eligibility_facts_home_org_occurred_at", "home_org", "occurred_at"),
    )

    fact_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), index=True)
    home_org: Mapped[str] = mapped_column(String(64))
    # A FactKind value; a plain string so that a new kind needs no schema change.
    kind: Mapped[str] = mapped_column(String(32))
    programme_id: Mapped[str] = mapped_column(String(36))
    programme_title: Mapped[str] = mapped_column(String(300))
    quality_area: Mapped[str | None] = mapped_column(String(32))
    hours: Mapped[float] = mapped_column(Float)
    source_type: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A revocation names the enrollment, not the event: indexed to find its completion.
    enrollment_id: Mapped[str | None] = mapped_column(String(36), index=True)
    programme_kind: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
