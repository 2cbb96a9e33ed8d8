"""SQLAlchemy tables of the awards service (its own database per node)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, String
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


class EligibilityFact(Base):
    """Something a member did that an award may cite, learnt from one event.

    Kept only at the member's home node, pseudonymous (`member_id`, never a name). The
    primary key is the source event's `ce_id`, so a nomination can cite exactly where a
    fact came from and a replayed event can never become a second fact.
    """

    __tablename__ = "eligibility_facts"
    # Roll-ups select by home org and year: this index serves both.
    __table_args__ = (
        Index("ix_eligibility_facts_home_org_occurred_at", "home_org", "occurred_at"),
    )

    fact_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), index=True)
    home_org: Mapped[str] = mapped_column(String(64))
    # A FactKind value; a plain string so that a new kind needs no schema change.
    kind: Mapped[str] = mapped_column(String(32))
    programme_id: Mapped[str] = mapped_column(String(36))
    programme_title: Mapped[str] = mapped_column(String(300))
    quality_area: Mapped[str | None] = mapped_column(String(32))
    hours: Mapped[float] = mapped_column(Float)
    source_type: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
