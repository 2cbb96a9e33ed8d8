"""Alembic glue every service uses: run its migrations, and the shared tables' first revision."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, Table
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.schema import SchemaItem

MIGRATION_LOCK_ID = 0x0B16_5C01


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


async def upgrade_to_head(migrations_dir: Path, database_url: str) -> None:
    """Bring a service database to the newest revision (in a thread: Alembic runs its own loop)."""
    await asyncio.to_thread(command.upgrade, alembic_config(migrations_dir, database_url), "head")


def run_env(target_metadata: MetaData) -> None:
    """Body of each service's ``migrations/env.py`` (online mode, async engine)."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"

    def migrate(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Replicas starting together on an empty database take turns: the second
                # waits here, then finds the schema at head and does nothing.
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
            context.run_migrations()

    async def main() -> None:
        # Like every engine of ours: errors never quote a statement's parameters.
        engine = create_async_engine(url, hide_parameters=True)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
            await connection.commit()
        await engine.dispose()

    asyncio.run(main())


class SchemaOps(Protocol):
    """What the first revisions below use of Alembic's ``op`` (a module: its functions)."""

    def create_table(self, table_name: str, *columns: SchemaItem, **kw: Any) -> Table: ...

    def create_index(
        self, index_name: str | None, table_name: str, columns: Sequence[str], **kw: Any
    ) -> None: ...


def create_messaging_tables(op: SchemaOps) -> None:
    """First revision of the outbox and processed-events tables (frozen: never edit)."""
    seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "outbox",
        sa.Column("seq", seq, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("headers", sa.Text, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_outbox"),
        sa.UniqueConstraint("id", name="uq_outbox_id"),
    )
    op.create_table(
        "processed_events",
        sa.Column("handler", sa.String(200), nullable=False),
        sa.Column("ce_id", sa.String(36), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("handler", "ce_id", name="pk_processed_events"),
    )
    op.create_index("ix_processed_events_processed_at", "processed_events", ["processed_at"])


def create_org_table(op: SchemaOps) -> None:
    """First revision of the org-tree replica (frozen: never edit)."""
    op.create_table(
        "orgs",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("parent_id", sa.String(64), nullable=True),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("hosted_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", name="pk_orgs"),
    )
    op.create_index("ix_orgs_parent_id", "orgs", ["parent_id"])
    op.create_index("ix_orgs_hosted_by", "orgs", ["hosted_by"])


def create_idempotency_table(op: SchemaOps) -> None:
    """First revision of the Idempotency-Key records (frozen: never edit)."""
    op.create_table(
        "idempotency_keys",
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=True),
        sa.Column("headers", sa.Text, nullable=True),
        sa.Column("body", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("caller", "key", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])
