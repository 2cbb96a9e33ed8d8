"""Webhook subscriptions, their deliveries (one per event and subscription) and the log of
every attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from notifications.models.base import Base
from shared.db import UTCDateTime


class WebhookSubscription(Base):
    """An integrator's endpoint, created by an admin of the node. The secret signs; during a
    rotation's overlap the previous one signs too, until `previous_secret_until`."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (Index("ix_webhook_subscriptions_created", "created_at", "subscription_id"),)

    subscription_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(500))
    event_types: Mapped[list[str]] = mapped_column(JSON)  # exact types or `prefix.*`
    orgs: Mapped[list[str]] = mapped_column(JSON)  # subtree roots; empty: every org
    secret: Mapped[str] = mapped_column(String(200))
    previous_secret: Mapped[str | None] = mapped_column(String(200))
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), index=True)
    # Since when every attempt failed (None: the last one succeeded); drives auto-disable.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_org: Mapped[str] = mapped_column(String(64))
    created_by_sub: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """One event for one subscription: its id is the `webhook-id`, and `body` the exact bytes
    signed and sent, so retries and replays are the same message."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("ce_id", "subscription_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        # The log of one subscription, newest first, and replays by time range.
        Index("ix_webhook_deliveries_log", "subscription_id", "created_at", "delivery_id"),
    )

    delivery_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(
        String(36),
        ForeignKey("webhook_subscriptions.subscription_id", ondelete="CASCADE"),
    )
    ce_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When it was (re)queued: retries stop `webhook_retry_hours` later.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The trace of the event it tells of (W3C traceparent): the delivery span joins it.
    traceparent: Mapped[str | None] = mapped_column(String(55))


class WebhookAttempt(Base):
    """One attempt: the receiver's status code or the error's type — never a body."""

    __tablename__ = "webhook_attempts"

    delivery_id: Mapped[str] = mapped_column(
        String(36),
        ForeignKey("webhook_deliveries.delivery_id", ondelete="CASCADE"),
        primary_key=True,
    )
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error_type: Mapped[str | None] = mapped_column(String(200))
    duration_ms: Mapped[int] = mapped_column(Integer)
