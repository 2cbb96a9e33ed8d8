"""Immediate rewards and the per-period quotas they draw on, at the node hosting the granting
org (the owner of the reward; the member's home node keeps it from `HonourGranted`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from awards.models.base import Base
from shared.db import UTCDateTime


class RewardQuota(Base):
    """What an org may grant per period, set by a level above it. An org without a row takes
    the default of the settings."""

    __tablename__ = "reward_quotas"
    # The domain keeps these; the database refuses anything else too (migration 0007).
    __table_args__ = (CheckConstraint("count >= 0 AND amount_fen >= 0", name="amounts"),)

    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(16))  # a PeriodKind value
    count: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    set_by: Mapped[str] = mapped_column(String(200))  # `sub` of the cadre or admin
    set_by_org: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RewardQuotaUsage(Base):
    """What an org's rewards used of one period's quota. Every grant locks this row (FOR
    UPDATE; SQLite serialises writers) before it counts: concurrent grants queue here."""

    __tablename__ = "reward_quota_usage"
    __table_args__ = (CheckConstraint("used_count >= 0 AND used_fen >= 0", name="amounts"),)

    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)  # label, e.g. 2025-06
    used_count: Mapped[int] = mapped_column(Integer)
    used_fen: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Reward(Base):
    """One immediate reward: pseudonymous (the member id, never a name)."""

    __tablename__ = "rewards"
    # Lists by granting org and by member, newest first.
    __table_args__ = (
        Index("ix_rewards_granting_org_granted_at", "granting_org", "granted_at"),
        Index("ix_rewards_member_id_granted_at", "member_id", "granted_at"),
        CheckConstraint("amount_fen >= 0", name="amount"),
    )

    reward_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    granting_org: Mapped[str] = mapped_column(String(64))
    granted_by: Mapped[str] = mapped_column(String(200))  # `sub` of the cadre: the audit
    member_id: Mapped[str] = mapped_column(String(36))
    home_org: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(String(2000))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    benefits: Mapped[list[str]] = mapped_column(JSON)  # BenefitKind values
    period: Mapped[str] = mapped_column(String(16))  # the quota period it counted in
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
