"""Notification preferences: each member's own, and each org's policy (defaults and the kinds
its members cannot switch off). A value left None is inherited: a member's from their org's
policy, an org's from the node's defaults."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from notifications.models.base import Base
from shared.db import UTCDateTime


class MemberPreference(Base):
    """What one recipient (a member, or a staff account by its recipient id) chose."""

    __tablename__ = "member_preferences"

    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    language: Mapped[str | None] = mapped_column(String(8))  # None: the member record's
    time_zone: Mapped[str | None] = mapped_column(String(64))  # IANA name
    quiet_hours: Mapped[str | None] = mapped_column(String(11))  # "22:00-07:00" or "off"
    digest_hour: Mapped[int | None] = mapped_column(SmallInteger)  # 0 to 23; -1: no digest
    # Kind → channel names; a kind not named follows the org's policy.
    channels: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OrgPolicy(Base):
    """An org's notification policy; it holds for the org's subtree down to the next org
    that has one of its own."""

    __tablename__ = "org_notification_policies"

    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    quiet_hours: Mapped[str | None] = mapped_column(String(11))
    digest_hour: Mapped[int | None] = mapped_column(SmallInteger)
    channels: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    required_kinds: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
