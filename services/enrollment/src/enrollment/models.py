"""SQLAlchemy tables of the enrollment service (its own database per node)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, Index, Integer, String, UniqueConstraint, text
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
    # Owner-side counters, changed only under the programme's row lock.
    confirmed_count: Mapped[int] = mapped_column(Integer, default=0)
    next_sequence: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Seat(Base):
    """The owner's decision on one enrollment request (pseudonymous: member_id only)."""

    __tablename__ = "seats"
    __table_args__ = (UniqueConstraint("programme_id", "member_id"),)

    enrollment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    programme_id: Mapped[str] = mapped_column(String(36), index=True)
    member_id: Mapped[str] = mapped_column(String(36))
    home_org: Mapped[str] = mapped_column(String(64))
    home_node: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    sequence: Mapped[int] = mapped_column(Integer)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Enrollment(Base):
    """The member's side of an enrollment, at the home node: what the member polls."""

    __tablename__ = "enrollments"
    __table_args__ = (
        # One active enrollment per member and programme (migration 0003).
        Index(
            "uq_enrollments_active",
            "programme_id",
            "member_id",
            unique=True,
            sqlite_where=text("status <> 'refused'"),
            postgresql_where=text("status <> 'refused'"),
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
