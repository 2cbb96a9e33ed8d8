"""Award schemes, their staff and rounds. The owner's node holds them with authority; every
node below the owner keeps read-only copies of schemes and rounds from the awards topic."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from awards.models.base import Base
from shared.db import UTCDateTime


class Scheme(Base):
    __tablename__ = "schemes"

    scheme_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner_org: Mapped[str] = mapped_column(String(64), index=True)
    # Created here (True) or a copy of another node's scheme (False): only the owner's
    # node changes a scheme, takes its rounds, reviews and decisions.
    owned_here: Mapped[bool] = mapped_column(Boolean)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    nominee: Mapped[str] = mapped_column(String(10))
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON)
    endorse_levels: Mapped[list[str]] = mapped_column(JSON)
    quotas: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    veto_departments: Mapped[list[str]] = mapped_column(JSON)
    notice_days: Mapped[int] = mapped_column(Integer)
    benefits: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    # Money promised by granted decisions not yet paid, and money paid: the budget check.
    committed_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    stipend: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    min_reviews: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SchemeStaff(Base):
    """The owner's panel: reviewers (with the org they come from, for recusal) and the
    officers of the veto departments. Staff accounts of the owner's node; never published."""

    __tablename__ = "scheme_staff"

    scheme_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sub: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)  # reviewer | veto
    org_id: Mapped[str] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(100))


class Round(Base):
    __tablename__ = "rounds"

    round_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    scheme_id: Mapped[str] = mapped_column(String(36), index=True)
    owner_org: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
