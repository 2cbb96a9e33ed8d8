"""The in-app inbox, and the per-recipient counter that numbers its items for the live stream."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from notifications.models.base import Base
from shared.db import UTCDateTime


class InboxItem(Base):
    """An in-app notification; its id is the delivery's, so it exists at most once."""

    __tablename__ = "inbox_items"
    __table_args__ = (
        Index("ix_inbox_items_member_created", "member_id", "created_at"),
        # The live stream's question: this recipient's items after position n.
        Index("ix_inbox_items_member_seq", "member_id", "seq", unique=True),
    )

    item_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The item's position in its recipient's inbox (1, 2, 3 …; gaps allowed), drawn from
    # `InboxSequence` in the inserting transaction: the stream's resumable event id.
    seq: Mapped[int] = mapped_column(BigInteger)


class InboxSequence(Base):
    """The last position given out in a recipient's inbox. Drawing positions updates this row,
    which stays locked until the transaction commits: a recipient's items therefore become
    visible in position order, and a reader that has seen position n can never be handed a
    smaller one later (a (created_at, id) position could: `created_at` is taken before the
    commit, and concurrent dispatchers commit in any order)."""

    __tablename__ = "inbox_sequences"

    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
