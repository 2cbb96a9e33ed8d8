"""Nominations: a replica of each nomination's state on every node it involves, its append-
only step trail, the dossiers received, and the owner's reviews, veto checks, decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from awards.models.base import Base
from shared.db import UTCDateTime


class Nomination(Base):
    """The state after the newest step applied here (`step`), the same on every node."""

    __tablename__ = "nominations"
    __table_args__ = (Index("ix_nominations_round_id_status", "round_id", "status"),)

    nomination_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    scheme_id: Mapped[str] = mapped_column(String(36), index=True)
    round_id: Mapped[str] = mapped_column(String(36))
    owner_org: Mapped[str] = mapped_column(String(64))
    home_org: Mapped[str] = mapped_column(String(64), index=True)
    nominee: Mapped[str] = mapped_column(String(10))
    member_ids: Mapped[list[str]] = mapped_column(JSON)
    team_name: Mapped[str | None] = mapped_column(String(200))
    stages: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    stage_index: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    open_objections: Mapped[int] = mapped_column(Integer)
    notice_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    step: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The owner's decision, kept here until the round's results are published.
    decision: Mapped[str | None] = mapped_column(String(10))
    decision_reasons: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class NominationMember(Base):
    """Who is nominated in which round: one active nomination per member and round."""

    __tablename__ = "nomination_members"

    round_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nomination_id: Mapped[str] = mapped_column(String(36))


class QuotaUse(Base):
    """At the owner: an admitted nomination counts against each quota org above its home org."""

    __tablename__ = "nomination_quota_uses"

    round_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nomination_id: Mapped[str] = mapped_column(String(36), primary_key=True)


class NominationStep(Base):
    """The audit trail: one row per step, never changed."""

    __tablename__ = "nomination_steps"

    nomination_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    step: Mapped[int] = mapped_column(Integer, primary_key=True)
    ce_id: Mapped[str] = mapped_column(String(36))
    ce_type: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    actor_org: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class Dossier(Base):
    """What the home org sent up, per version: names, achievements, cited facts."""

    __tablename__ = "dossiers"

    nomination_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    nominees: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    team_name: Mapped[str | None] = mapped_column(String(200))
    achievements: Mapped[str] = mapped_column(Text)
    cited_facts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    training_hours: Mapped[float] = mapped_column(Float)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Review(Base):
    __tablename__ = "reviews"

    nomination_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reviewer: Mapped[str] = mapped_column(String(200), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class VetoCheck(Base):
    __tablename__ = "veto_checks"

    nomination_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    department: Mapped[str] = mapped_column(String(100), primary_key=True)
    vetoed: Mapped[int] = mapped_column(Integer)  # 0 cleared, 1 vetoed
    officer: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
