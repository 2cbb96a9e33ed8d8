"""Stipend schedules of granted titles and their yearly payments, at the scheme owner's node.
Pseudonymous like every awards table: member ids only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from awards.models.base import Base
from shared.db import UTCDateTime


class StipendSchedule(Base):
    """One granted nomination's stipend: `years` payments of `yearly_fen` from `starts_at`."""

    __tablename__ = "stipend_schedules"

    schedule_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nomination_id: Mapped[str] = mapped_column(String(36), unique=True)
    scheme_id: Mapped[str] = mapped_column(String(36), index=True)
    owner_org: Mapped[str] = mapped_column(String(64))
    home_org: Mapped[str] = mapped_column(String(64))
    member_ids: Mapped[list[str]] = mapped_column(JSON)
    yearly_fen: Mapped[int] = mapped_column(BigInteger)
    years: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StipendPayment(Base):
    """One yearly payment, written with its schedule. The primary key makes a second row for
    the same payment impossible; `paid_at` is set once, with the honour it raised."""

    __tablename__ = "stipend_payments"
    # The job's question: which payments are due and not paid, oldest first.
    __table_args__ = (Index("ix_stipend_payments_paid_at_due_at", "paid_at", "due_at"),)

    schedule_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1 .. years
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    honour_id: Mapped[str | None] = mapped_column(String(36), unique=True)
