"""Public notices of shortlists (on every node hosting part of the owner's subtree), the
objections members file against them, and the grants paid at the owner."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from awards.models.base import Base
from shared.db import UTCDateTime


class Notice(Base):
    __tablename__ = "notices"

    notice_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    round_id: Mapped[str] = mapped_column(String(36), index=True)
    scheme_id: Mapped[str] = mapped_column(String(36))
    scheme_title: Mapped[str] = mapped_column(String(200))
    owner_org: Mapped[str] = mapped_column(String(64), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NoticeEntry(Base):
    __tablename__ = "notice_entries"

    notice_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nomination_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    home_org: Mapped[str] = mapped_column(String(64))
    nominees: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    team_name: Mapped[str | None] = mapped_column(String(200))
    achievements: Mapped[str] = mapped_column(Text)


class Objection(Base):
    """At the owner (to answer it) and at the objector's home node (to show them the answer)."""

    __tablename__ = "objections"

    objection_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    notice_id: Mapped[str] = mapped_column(String(36))
    nomination_id: Mapped[str] = mapped_column(String(36), index=True)
    owner_org: Mapped[str] = mapped_column(String(64))
    objector_id: Mapped[str] = mapped_column(String(36), index=True)
    objector_org: Mapped[str] = mapped_column(String(64))
    reasons: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))  # open | upheld | dismissed
    answer: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Grant(Base):
    """A granted nomination paid against its scheme's budget, at the owner."""

    __tablename__ = "grants"

    grant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nomination_id: Mapped[str] = mapped_column(String(36), unique=True)
    scheme_id: Mapped[str] = mapped_column(String(36), index=True)
    round_id: Mapped[str] = mapped_column(String(36))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
