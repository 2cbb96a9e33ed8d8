"""Deliveries and their attempt log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from notifications.models.base import Base
from shared.db import UTCDateTime


class Delivery(Base):
    """One notification of one event to one recipient on one channel: committed before it is
    sent, so a crash can neither lose it nor (thanks to the unique key) double it."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("ce_id", "member_id", "channel"),
        # The dispatcher's question: which pending rows are due?
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    delivery_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ce_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(200))
    member_id: Mapped[str] = mapped_column(String(36), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The error's type only: messages may quote addresses or names.
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryAttempt(Base):
    """The delivery log: one row per attempt, for support and for replays."""

    __tablename__ = "delivery_attempts"

    delivery_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("deliveries.delivery_id", ondelete="CASCADE"), primary_key=True
    )
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))
    error_type: Mapped[str | None] = mapped_column(String(200))
