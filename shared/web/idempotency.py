"""Idempotency-Key records: the table every service database has, the reads and writes of
the HTTP guard (shared/web/idempotency_guard.py), and the pruner of expired keys.

A key is claimed by a row inserted in the first write transaction of the request, so the
key commits with the request's effect or not at all: a crash can leave neither an effect
without its key nor a key without its effect. The response is recorded on that row right
after the route returned. A committed row without a response therefore means "took effect,
answer not (yet) recorded", and a second request that races the first for the key fails on
the primary key.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Column,
    CursorResult,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from shared.clock import Clock
from shared.db import Database, UTCDateTime
from shared.web.problems import Conflict

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"


def idempotency_table(metadata: MetaData) -> Table:
    return Table(
        "idempotency_keys",
        metadata,
        # Principal.caller_key: keys of different callers never meet.
        Column("caller", String(64), primary_key=True),
        Column("key", String(255), primary_key=True),
        # sha256 of method, path, query and body: "the same request" means this.
        Column("fingerprint", String(64), nullable=False),
        # Null until the response is recorded.
        Column("status", Integer, nullable=True),
        Column("headers", Text, nullable=True),
        Column("body", LargeBinary, nullable=True),
        Column("created_at", UTCDateTime, nullable=False, index=True),
    )


@dataclass(frozen=True)
class KeyRecord:
    """What an earlier request with the same key left."""

    fingerprint: str
    status: int | None
    headers: list[tuple[str, str]]
    body: bytes


class Claim:
    """The key of one request, waiting for its first write transaction (see
    `shared.db.WRITE_HOOK`). Claims at most once, however many transactions follow."""

    def __init__(self, store: IdempotencyStore, caller: str, key: str, fingerprint: str) -> None:
        self.store = store
        self.caller = caller
        self.key = key
        self.fingerprint = fingerprint
        self.claimed = False

    async def __call__(self, session: AsyncSession) -> None:
        if self.claimed:
            return
        self.claimed = True
        await self.store.insert_claim(session, self)


class IdempotencyStore:
    def __init__(self, db: Database, table: Table, clock: Clock, ttl: timedelta) -> None:
        self.db = db
        self.table = table
        self.clock = clock
        self.ttl = ttl

    def cutoff(self) -> datetime:
        """Keys created at or before this instant have expired."""
        return self.clock.now() - self.ttl

    def _this(self, caller: str, key: str) -> list[ColumnElement[bool]]:
        return [self.table.c.caller == caller, self.table.c.key == key]

    async def find(self, caller: str, key: str) -> KeyRecord | None:
        """The unexpired record of `key`, if a committed request left one."""
        t = self.table
        async with self.db.reading() as session:
            row = (
                await session.execute(
                    select(t.c.fingerprint, t.c.status, t.c.headers, t.c.body).where(
                        *self._this(caller, key), t.c.created_at > self.cutoff()
                    )
                )
            ).first()
        if row is None:
            return None
        headers = [(str(n), str(v)) for n, v in json.loads(row.headers or "[]")]
        return KeyRecord(row.fingerprint, row.status, headers, row.body or b"")

    def claim(self, caller: str, key: str, fingerprint: str) -> Claim:
        return Claim(self, caller, key, fingerprint)

    async def insert_claim(self, session: AsyncSession, claim: Claim) -> None:
        """Inside the request's write transaction: an expired record of the key is replaced;
        a live one (a parallel request that committed first) is a conflict."""
        t = self.table
        await session.execute(
            delete(t).where(*self._this(claim.caller, claim.key), t.c.created_at <= self.cutoff())
        )
        try:
            await session.execute(insert(t).values(**self._row(claim)))
        except IntegrityError as exc:
            raise Conflict(
                f"a request with this {HEADER} is already in progress", field=HEADER
            ) from exc

    async def record(
        self, claim: Claim, status: int, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        """Keep the response of a successful request for replays. Its key row is there if a
        write transaction claimed it; a request that wrote nothing gets one now."""
        t = self.table
        response = {"status": status, "headers": json.dumps(headers), "body": body}
        try:
            async with self.db.transaction() as session:
                if claim.claimed:
                    done = await session.execute(
                        update(t)
                        .where(*self._this(claim.caller, claim.key), t.c.status.is_(None))
                        .where(t.c.fingerprint == claim.fingerprint)
                        .values(**response)
                    )
                    # An UPDATE's result is a CursorResult; execute() is typed as a plain Result.
                    if cast(CursorResult[Any], done).rowcount:
                        return
                await session.execute(insert(t).values(**self._row(claim), **response))
        except IntegrityError:
            # A parallel request with the same key committed first: its record stands.
            log.info("%s already recorded by a parallel request", HEADER)

    def _row(self, claim: Claim) -> dict[str, object]:
        return {
            "caller": claim.caller,
            "key": claim.key,
            "fingerprint": claim.fingerprint,
            "created_at": self.clock.now(),
        }


async def forget_responses_naming(session: AsyncSession, table: Table, subject_id: str) -> int:
    """Recorded responses may hold personal data (a member's record): when the person leaves,
    every record whose response names their id goes, in the caller's transaction. The table
    holds one TTL of traffic, so the scan is bounded."""
    pattern = f"%{subject_id}%".encode()
    # bytea LIKE bytea on PostgreSQL, blob LIKE on SQLite: the body need not be text.
    done = await session.execute(delete(table).where(table.c.body.op("LIKE")(pattern)))
    return int(cast(CursorResult[Any], done).rowcount or 0)


class IdempotencyPruner:
    """Forgets expired keys (they are already ignored) in small batches, so the table stays
    as large as one TTL of traffic and no transaction is long. Shaped like
    `shared.messaging.pruning.ProcessedPruner`."""

    def __init__(
        self, store: IdempotencyStore, *, batch_size: int = 5_000, every_seconds: float = 3_600
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.every_seconds = every_seconds

    async def prune_once(self) -> int:
        """Delete every expired key; returns how many."""
        t, cutoff = self.store.table, self.store.cutoff()
        total = 0
        while True:
            async with self.store.db.transaction() as session:
                keys = (
                    await session.execute(
                        select(t.c.caller, t.c.key)
                        .where(t.c.created_at <= cutoff)
                        .limit(self.batch_size)
                    )
                ).all()
                if keys:
                    await session.execute(delete(t).where(tuple_(t.c.caller, t.c.key).in_(keys)))
            total += len(keys)
            if len(keys) < self.batch_size:
                return total

    async def run(self) -> None:
        while True:
            try:
                if removed := await self.prune_once():
                    log.info("forgot %d expired idempotency keys", removed)
            except Exception as exc:
                log.warning("pruning idempotency keys failed: %s", type(exc).__name__)
            await asyncio.sleep(self.every_seconds)
