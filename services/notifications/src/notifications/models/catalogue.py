"""What this node knows of programmes and schemes (titles, dates, veto departments), the
seats its members hold, and the reminders due before a programme starts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from notifications.models.base import Base
from shared.db import UTCDateTime


class Programme(Base):
    """A programme's newest state, from the enrollment topic: notices name it by title."""

    __tablename__ = "programmes"

    programme_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    owner_org: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str | None] = mapped_column(String(500))
    cancelled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Scheme(Base):
    """An award scheme's newest version, from the awards topic."""

    __tablename__ = "schemes"

    scheme_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    owner_org: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    veto_departments: Mapped[list[str]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)


class Seat(Base):
    """A seat a member of this node holds (confirmed, not yet cancelled or completed)."""

    __tablename__ = "seats"
    __table_args__ = (Index("ix_seats_programme", "programme_id", "enrollment_id"),)

    enrollment_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    programme_id: Mapped[str] = mapped_column(String(128))
    member_id: Mapped[str] = mapped_column(String(36), index=True)
    home_org: Mapped[str] = mapped_column(String(64))
    held_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Reminder(Base):
    """The reminder of one seat: due at `remind_at`; `sent_at` once turned into deliveries
    (a new `starts_at` makes it due again)."""

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_due", "sent_at", "remind_at"),
        Index("ix_reminders_programme", "programme_id"),
    )

    enrollment_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    programme_id: Mapped[str] = mapped_column(String(128))
    member_id: Mapped[str] = mapped_column(String(36), index=True)
    home_org: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    remind_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
