"""Deliveries and their attempt log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from notifications.models.base import Base
from shared.db import UTCDateTime

LANE_SINGLE = 0  # one event's notices: a seat offer, a decision
LANE_BULK = 1  # a public notice's fan-out to a subtree


class Delivery(Base):
    """One notification of one event to one recipient on one channel: committed before it is
    sent, so a crash can neither lose it nor (its key derives from event, recipient and
    channel) double it."""

    __tablename__ = "deliveries"
    __table_args__ = (
        # No unique (ce_id, member_id, channel): the primary key is derived from exactly those
        # (`domain.deliveries.delivery_id`), and one index fewer makes every insert cheaper.
        # The digest's question: whose held rows are due? Held rows only (a partial index).
        Index(
            "ix_deliveries_digest_due",
            "member_id",
            "next_attempt_at",
            postgresql_where=text("status = 'digest'"),
            sqlite_where=text("status = 'digest'"),
        ),
        # Support's delivery log of an org, newest first, all or by status (failed ones).
        Index("ix_deliveries_home_org_created", "home_org", "created_at", "delivery_id"),
        Index("ix_deliveries_home_org_status", "home_org", "status", "created_at", "delivery_id"),
        # The same per lane (see LANE_*), due first: each lane's claim is a short index range.
        Index(
            "ix_deliveries_lane_due",
            "lane",
            "next_attempt_at",
            "delivery_id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
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
    # The recipient's home org when the notice was planned: whose cadres read its log and
    # may retry it (None only for rows planned before the column existed without a recipient).
    home_org: Mapped[str | None] = mapped_column(String(64))
    # Single messages (LANE_SINGLE) are claimed before a public notice's fan-out (LANE_BULK).
    lane: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Planned because the delivery on another channel failed (or could not be sent): its id.
    fallback_of: Mapped[str | None] = mapped_column(String(36))
    # The trace of the event it tells of (W3C traceparent): the delivery span joins it.
    traceparent: Mapped[str | None] = mapped_column(String(55))


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
    # The attempt gave up and the notice fell back to this delivery on the next channel.
    fallback_to: Mapped[str | None] = mapped_column(String(36))
