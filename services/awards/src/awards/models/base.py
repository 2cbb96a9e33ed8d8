"""The declarative base of the awards service's tables (its own database per node), and the
tables every service has: outbox and processed events, the org replica, Idempotency-Keys."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.db import new_metadata
from shared.messaging.tables import messaging_tables
from shared.orgs.directory import org_table
from shared.web.idempotency import idempotency_table


class Base(DeclarativeBase):
    metadata = new_metadata()


MESSAGING = messaging_tables(Base.metadata)
ORGS = org_table(Base.metadata)
IDEMPOTENCY_KEYS = idempotency_table(Base.metadata)
