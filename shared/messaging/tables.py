"""The tables every service database has for reliable messaging."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, MetaData, String, Table, Text

from shared.db import UTCDateTime

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
SEQUENCE_TYPE = BigInteger().with_variant(Integer(), "sqlite")


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    processed: Table


def messaging_tables(metadata: MetaData) -> MessagingTables:
    outbox = Table(
        "outbox",
        metadata,
        # Relay order = commit order per key: the relay reads rows by this sequence.
        Column("seq", SEQUENCE_TYPE, primary_key=True, autoincrement=True),
        Column("id", String(36), nullable=False, unique=True, comment="ce_id"),
        Column("topic", String(255), nullable=False),
        Column("key", String(255), nullable=False),
        Column("headers", Text, nullable=False, comment="JSON list of [name, value]"),
        Column("payload", LargeBinary, nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
    )
    processed = Table(
        "processed_events",
        metadata,
        Column("handler", String(200), primary_key=True),
        Column("ce_id", String(36), primary_key=True),
        Column("processed_at", UTCDateTime, nullable=False, index=True),
    )
    return MessagingTables(outbox=outbox, processed=processed)
