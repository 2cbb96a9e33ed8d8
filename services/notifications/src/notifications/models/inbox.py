"""The in-app inbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from notifications.models.base import Base
from shared.db import UTCDateTime


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
