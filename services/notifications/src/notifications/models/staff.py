"""The staff directory: who of an org must act on what (duties). A staff member's contact
data lives in `recipients` (under `staff_recipient_id(org, sub)`), so the dispatcher tells
them like any member."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from notifications.models.base import Base
from shared.db import UTCDateTime


class StaffMember(Base):
    """A staff account of an org that this node tells of what needs its action."""

    __tablename__ = "staff"

    org: Mapped[str] = mapped_column(String(64), primary_key=True)
    sub: Mapped[str] = mapped_column(String(128), primary_key=True)
    recipient_id: Mapped[str] = mapped_column(String(36), unique=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StaffDuty(Base):
    """One duty of a staff member: `approvals`, `endorsements`, `reviews`, `objections`,
    `admin` or `veto:<department>`."""

    __tablename__ = "staff_duties"
    # Planning's question: who of this org has this duty?
    __table_args__ = (Index("ix_staff_duties_org_duty", "org", "duty", "sub"),)

    org: Mapped[str] = mapped_column(String(64), primary_key=True)
    sub: Mapped[str] = mapped_column(String(128), primary_key=True)
    duty: Mapped[str] = mapped_column(String(120), primary_key=True)
