"""SQLAlchemy tables of the notifications service (its own database per node)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime, new_metadata
from shared.messaging.tables import messaging_tables
from shared.orgs.directory import org_table
from shared.web.idempotency import idempotency_table


class Base(DeclarativeBase):
    metadata = new_metadata()


MESSAGING = messaging_tables(Base.metadata)
ORGS = org_table(Base.metadata)
IDEMPOTENCY_KEYS = idempotency_table(Base.metadata)


class Recipient(Base):
    """Contact data of a member of this node, copied from the node-local members topic."""

    __tablename__ = "recipients"

    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    home_org: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


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


class InboxItem(Base):
    """An in-app notification; its id is the delivery's, so it exists at most once."""

    __tablename__ = "inbox_items"
    __table_args__ = (Index("ix_inbox_items_member_created", "member_id", "created_at"),)

    item_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
