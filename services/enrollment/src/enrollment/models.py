"""SQLAlchemy tables of the enrollment service (its own database per node)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, text
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


class Member(Base):
    """A member's personal record: lives only at the home org's node."""

    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    home_org: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    employee_no: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Programme(Base):
    """A programme: authoritative at its owner node, a read-only copy elsewhere."""

    __tablename__ = "programmes"

    programme_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner_org: Mapped[str] = mapped_column(String(64), index=True)
    owner_node: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(64))
    quality_area: Mapped[str] = mapped_column(String(32))
    audience: Mapped[list[str]] = mapped_column(JSON)
    capacity: Mapped[int] = mapped_column(Integer)
    hours: Mapped[float] = mapped_column(Float)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str | None] = mapped_column(String(300))
    online_link: Mapped[str | None] = mapped_column(String(500))
    kind_detail: Mapped[str | None] = mapped_column(String(100))
    quotas: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, server_default="{}")
    cost_per_seat_fen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    enrollment_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    eligibility: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    offer_hours: Mapped[int] = mapped_column(Integer, default=48, server_default="48")
    over_budget: Mapped[str] = mapped_column(String(16), default="refuse", server_default="refuse")
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Owner-side counters, changed only under the programme's row lock: seats taken
    # (confirmed, offered and later), per quota org, the next decision and waitlist numbers.
    confirmed_count: Mapped[int] = mapped_column(Integer, default=0)
    quota_used: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, server_default="{}")
    next_sequence: Mapped[int] = mapped_column(Integer, default=1)
    waitlist_next: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


ACTIVE_SEAT = text("status <> 'cancelled'")
ACTIVE_ENROLLMENT = text("status NOT IN ('refused', 'rejected', 'cancelled')")


class Seat(Base):
    """The owner's decision on one enrollment request: pseudonymous (member_id), with the
    display name the request brought for the participant list."""

    __tablename__ = "seats"
    __table_args__ = (
        # One active seat per member and programme (migration 0004).
        Index(
            "uq_seats_active",
            "programme_id",
            "member_id",
            unique=True,
            sqlite_where=ACTIVE_SEAT,
            postgresql_where=ACTIVE_SEAT,
        ),
    )

    enrollment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    programme_id: Mapped[str] = mapped_column(String(36), index=True)
    member_id: Mapped[str] = mapped_column(String(36))
    home_org: Mapped[str] = mapped_column(String(64))
    home_node: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    sequence: Mapped[int] = mapped_column(Integer)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    quota_org: Mapped[str | None] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(200))
    waitlist_number: Mapped[int | None] = mapped_column(Integer)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    cost_fen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    score: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Enrollment(Base):
    """The member's side of an enrollment, at the home node: what the member polls."""

    __tablename__ = "enrollments"
    __table_args__ = (
        # One active enrollment per member and programme (migrations 0003, 0004).
        Index(
            "uq_enrollments_active",
            "programme_id",
            "member_id",
            unique=True,
            sqlite_where=ACTIVE_ENROLLMENT,
            postgresql_where=ACTIVE_ENROLLMENT,
        ),
    )

    enrollment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    programme_id: Mapped[str] = mapped_column(String(36), index=True)
    member_id: Mapped[str] = mapped_column(String(36), index=True)
    home_org: Mapped[str] = mapped_column(String(64))
    owner_node: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    sequence: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waitlist_number: Mapped[int | None] = mapped_column(Integer)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hours: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    link_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WaitlistDeparture(Base):
    """A waitlist number that left the waitlist (offered or cancelled): a member's queue
    position is their number minus the numbers below it that left."""

    __tablename__ = "waitlist_departures"

    programme_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
