"""Public-notice fan-out: one job per notice, expanded into deliveries in bounded batches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from notifications.models.base import Base
from shared.db import UTCDateTime

FANOUT_EXPANDING = "expanding"  # members are still being planned
FANOUT_DONE = "done"  # every member of the subtree hosted here has their deliveries


class FanoutJob(Base):
    """A public notice to be told to every member of the owner's subtree that this node hosts.

    Recorded once per notice by the consumer (the notice may arrive in several parts, and any
    part several times); the fan-out worker then plans the members' deliveries batch by batch,
    saving `cursor` (the last member id planned: a keyset over `recipients`) and the counts in
    the same transaction as each batch — so a restart resumes where the last batch ended."""

    __tablename__ = "fanout_jobs"
    # The worker's question: which jobs still expand, oldest first?
    __table_args__ = (Index("ix_fanout_jobs_status_created", "status", "created_at"),)

    notice_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_org: Mapped[str] = mapped_column(String(64))
    # The deliveries' ce_id, derived from the notice id (not a part's id): exactly once.
    ce_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(200))
    # What the templates see: the notice's header, never its nominees.
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # expanding | done
    cursor: Mapped[str | None] = mapped_column(String(36))
    recipients: Mapped[int] = mapped_column(Integer)  # members planned so far
    deliveries: Mapped[int] = mapped_column(Integer)  # delivery rows added so far
    batches: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
