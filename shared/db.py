"""Database access every service shares: one async engine per service database.

SQLite is the embedded default: every transaction starts with ``BEGIN IMMEDIATE`` so
writers queue on the busy timeout instead of failing on a lock upgrade. PostgreSQL is
the production engine (asyncpg).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar, TypeVarTuple

from sqlalchemy import (
    DateTime,
    MetaData,
    Select,
    SQLColumnExpression,
    Table,
    TypeDecorator,
    and_,
    event,
    or_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


READ_ONLY = "bigschool_read_only"

WriteHook = Callable[[AsyncSession], Awaitable[None]]
# Work that must commit with the effect of the current request, in the same transaction: the
# Idempotency-Key row (shared/web/idempotency.py). Set per request by its HTTP guard; every
# write transaction calls it, and the hook makes sure it does its work only once.
WRITE_HOOK: ContextVar[WriteHook | None] = ContextVar("bigschool_write_hook", default=None)


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


class Base(DeclarativeBase):
    """Declarative base for a service's ORM models; each service subclasses it with its own
    metadata so that one service's tables never appear in another's."""

    __abstract__ = True


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # A failed statement's error text would carry its parameters (names, e-mails, phones)
    # into every log line and traceback that prints it.
    kwargs["hide_parameters"] = True
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        _sqlite_immediate_transactions(engine)
        return engine
    # No pre-ping: it costs a round trip per checkout, twice per request. A connection that
    # died (a database restart) fails its first statement instead; SQLAlchemy then drops the
    # whole pool, the request answers 503 and a consumer retries: both are safe to repeat.
    return create_async_engine(url, pool_size=10, max_overflow=20, **kwargs)


def _sqlite_immediate_transactions(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so that BEGIN is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        # WAL is a property of the file: set it once. Setting it again while other
        # connections write can fail with SQLITE_BUSY without waiting for the busy timeout.
        cursor.execute("PRAGMA journal_mode")
        if str(cursor.fetchone()[0]).lower() != "wal":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Readers share WAL snapshots; writers queue for the one write lock from the start.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Database:
    """An engine and a session factory. ``transaction()`` is the one place that commits."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._after_commit: list[Callable[[], None]] = []

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` after every committed transaction (e.g. wake the outbox relay)."""
        self._after_commit.append(callback)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session, session.begin():
            if (hook := WRITE_HOOK.get()) is not None:
                await hook(session)
            yield session
        for callback in self._after_commit:
            callback()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only: on SQLite it does not take the write lock; on
        PostgreSQL it runs without BEGIN and ROLLBACK (two round trips saved)."""
        options: dict[str, Any] = {READ_ONLY: True}
        if self.dialect == "postgresql":
            options["isolation_level"] = "AUTOCOMMIT"
        async with self.sessions() as session:
            await session.connection(execution_options=options)
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


class CommitSignal:
    """Wakes a background loop (outbox relay, dispatcher) as soon as a transaction of this
    service commits; what other processes commit it finds when its wait times out."""

    def __init__(self, db: Database) -> None:
        self._event = asyncio.Event()
        db.on_commit(self._event.set)

    async def wait(self, seconds: float) -> None:
        """Sleep until the next commit, or for `seconds` at the most."""
        self._event.clear()
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
        # lands just as the event fires, and a stopping worker would then not stop.
        with suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._event.wait()


Insertable = Table | type[DeclarativeBase]
Model = TypeVar("Model", bound=DeclarativeBase)


async def get_row(
    session: AsyncSession, model: type[Model], key: Any, *, for_update: bool = False
) -> Model | None:
    """The row of `model` with primary key `key`, or None. `for_update` locks it to the end of
    the transaction (FOR UPDATE on PostgreSQL) and reads it afresh: an object this session
    read before the lock would otherwise keep its stale values."""
    return await session.get(model, key, with_for_update=for_update, populate_existing=for_update)


def dialect_insert(session: AsyncSession, table: Insertable) -> postgresql.Insert | sqlite.Insert:
    """An INSERT of the session's dialect, which has the ON CONFLICT clauses."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def upsert(
    session: AsyncSession, table: Insertable, values: dict[str, Any], keys: list[str]
) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE, for PostgreSQL and SQLite alike."""
    stmt = dialect_insert(session, table).values(**values)
    updates = {k: stmt.excluded[k] for k in values if k not in keys}
    await session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=updates))


# The column types of a SELECT that a helper below narrows (and leaves as they were).
Columns = TypeVarTuple("Columns")

# Where a time-ordered page stopped: the (instant, id) of the last row shown; the id breaks
# ties so that the position is exact.
Position = tuple[datetime, str]


def newest_first_after(
    stmt: Select[*Columns],
    at: SQLColumnExpression[datetime],
    key: SQLColumnExpression[str],
    after: Position | None,
) -> Select[*Columns]:
    """`stmt` ordered newest first by (at, key), from just after the position `after` (the
    last row of the page before; None: from the start). Spelt out rather than a row-value
    comparison, so that each value is bound with its column's type (the instant as stored)."""
    if after is not None:
        instant, last = after
        stmt = stmt.where(or_(at < instant, and_(at == instant, key < last)))
    return stmt.order_by(at.desc(), key.desc())


def oldest_first_after(
    stmt: Select[*Columns],
    at: SQLColumnExpression[datetime],
    key: SQLColumnExpression[str],
    after: Position | None,
) -> Select[*Columns]:
    """`stmt` ordered oldest first by (at, key), from just after the position `after`."""
    if after is not None:
        instant, last = after
        stmt = stmt.where(or_(at > instant, and_(at == instant, key > last)))
    return stmt.order_by(at, key)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC instants on every engine (SQLite would hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: instants are stored in UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
