"""The transactional outbox: events are rows written in the same transaction as the change
that caused them; the relay publishes them to Kafka afterwards, in commit order per key.

Invariants (docs/outbox.md has them all):
- a row is deleted only after the broker acknowledged it (idempotent producer, acks=all);
- one relay per database is active at a time (PostgreSQL advisory lock; on SQLite a lock
  on a file beside the database), and no transaction stays open while Kafka is asked;
- when a send fails, later rows with the same key are kept and re-sent after it, so a
  key's order holds; consumers drop the duplicates by `ce_id`.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
from collections.abc import Sequence
from typing import Any, Protocol, TextIO

from aiokafka import AIOKafkaProducer, errors
from sqlalchemy import delete, event, func, insert, make_url, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session

from shared.clock import Clock, SystemClock
from shared.contracts.base import Event
from shared.contracts.envelope import Envelope, envelope_for
from shared.db import CommitSignal, Database
from shared.kafka.connection import KafkaConnection
from shared.messaging.tables import MessagingTables
from shared.metrics import OUTBOX_PUBLISHED, OUTBOX_SEND_FAILURES, RELAY_LEASE
from shared.orgs.signing import SIGNATURE_HEADER, NodeSigner
from shared.tracing import publish_span

log = logging.getLogger(__name__)

# One advisory-lock id per database: each service has its own database.
RELAY_LOCK_ID = 0x0B16_5C00
_PENDING = "bigschool_outbox_pending"


# Send errors after which the idempotent producer never succeeds again (its id or sequence
# numbers are unknown to the broker): only a new producer gets the rows through.
PRODUCER_STATE_LOST = (
    errors.OutOfOrderSequenceNumber,
    errors.UnknownProducerId,
    errors.InvalidProducerEpoch,
    errors.ProducerFenced,
)


class OutboxRow(Protocol):
    """A row of the outbox table (shared/messaging/tables.py), as the relay reads it."""

    @property
    def seq(self) -> int: ...
    @property
    def topic(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def headers(self) -> str: ...
    @property
    def payload(self) -> bytes: ...


class Outbox:
    """Stages events in the caller's session; never commits (the caller's transaction does)."""

    def __init__(
        self,
        tables: MessagingTables,
        source: str,
        clock: Clock | None = None,
        signer: NodeSigner | None = None,
    ) -> None:
        self.tables = tables
        self.source = source
        self.clock = clock or SystemClock()
        self.signer = signer

    async def stage(self, session: AsyncSession, event: Event, *, topic: str) -> Envelope:
        env = envelope_for(event, source=self.source, at=self.clock.now())
        headers = env.headers()
        payload = event.model_dump_json().encode()
        if event.signed:
            if self.signer is None:
                raise RuntimeError(
                    f"{event.ce_type} is signed by the node: set BIGSCHOOL_NODE_KEY_PATH"
                )
            headers.append((SIGNATURE_HEADER, self.signer.sign(headers, payload).encode()))
        row = {
            "id": env.id,
            "topic": topic,
            "key": event.key(),
            "headers": json.dumps([[k, v.decode()] for k, v in headers]),
            "payload": payload,
            "created_at": env.time,
        }
        self._pending(session).append(row)
        return env

    def _pending(self, session: AsyncSession) -> list[dict[str, Any]]:
        """The rows staged in this transaction, written in one statement when it commits (a
        batch of a hundred events is one INSERT, not a hundred). Rows are written in the
        order they were staged, so `seq` keeps commit order per key; a rollback drops them
        with everything else."""
        rows: list[dict[str, Any]] | None = session.info.get(_PENDING)
        if rows is None:
            rows = session.info[_PENDING] = []
            table = self.tables.outbox

            def write(sync_session: Session) -> None:
                staged = sync_session.info.pop(_PENDING, None)
                if staged:
                    sync_session.execute(insert(table), staged)

            # A sync hook, run inside the async session's greenlet: it may execute SQL.
            event.listen(session.sync_session, "before_commit", write, once=True)
        return rows


class Producer:
    """The one producer kind we use: idempotent (so acks=all) and ordered per partition.
    Created on start, inside the event loop that will use it."""

    def __init__(self, kafka: KafkaConnection, client_id: str) -> None:
        self.connection = kafka
        self.client_id = client_id
        self._producer: AIOKafkaProducer | None = None

    @property
    def kafka(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("producer not started")
        return self._producer

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            **self.connection.aiokafka(),
            client_id=self.client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
            request_timeout_ms=15_000,
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def restart(self) -> None:
        """A new producer id and fresh sequence numbers: after the broker lost the old
        producer's state (a restart), every send of the old one fails for good. The resend
        may duplicate what the old one had written; consumers drop duplicates by `ce_id`."""
        log.warning("outbox: the broker lost the producer's state; starting a new producer")
        await self.stop()
        await self.start()


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        tables: MessagingTables,
        producer: Producer,
        *,
        batch_size: int = 500,
        poll_seconds: float = 0.2,
        linger_seconds: float = 0.0,
    ) -> None:
        self.db = db
        self.table = tables.outbox
        self.producer = producer
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.linger_seconds = linger_seconds
        self._wake = CommitSignal(db)
        self._lease: AsyncConnection | None = None
        self._lease_file: TextIO | None = None
        self.last_error: str | None = None

    async def run(self) -> None:
        """Relay forever; transient faults (broker or database down) are retried with backoff."""
        backoff = self.poll_seconds
        while True:
            try:
                if not await self._hold_lease():
                    await asyncio.sleep(1.0)
                    continue
                sent = await self.relay_once()
                self.last_error = None
                backoff = self.poll_seconds
                if sent < self.batch_size:
                    await self._wake.wait(self.poll_seconds)
                    if self.linger_seconds:  # let concurrent commits join this batch
                        await asyncio.sleep(self.linger_seconds)
            except asyncio.CancelledError:
                await self._release_lease()
                raise
            except Exception as exc:
                self.last_error = type(exc).__name__
                log.warning("outbox relay: %s; retrying in %.1fs", type(exc).__name__, backoff)
                await self._release_lease()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def relay_once(self) -> int:
        """Publish one batch; returns how many rows were published. No transaction is open
        while the broker is asked: writers never wait on the network."""
        async with self.db.reading() as session:
            rows = (
                await session.execute(
                    select(self.table).order_by(self.table.c.seq).limit(self.batch_size)
                )
            ).all()
        if not rows:
            return 0
        done = await self._send(rows)
        if done:
            async with self.db.transaction() as session:
                await session.execute(delete(self.table).where(self.table.c.seq.in_(done)))
        OUTBOX_PUBLISHED.inc(len(done))
        return len(done)

    async def _send(self, rows: Sequence[OutboxRow]) -> list[int]:
        futures = []
        for row in rows:
            pairs = json.loads(row.headers)
            headers = [(k, v.encode()) for k, v in pairs]
            found = dict(pairs)
            # A child of the row's `create` span (the request's trace). The message keeps the
            # row's headers as they are: org-tree events are signed over them.
            with publish_span(row.topic, found.get("traceparent"), found.get("ce_id")):
                futures.append(
                    await self.producer.kafka.send(
                        row.topic, value=row.payload, key=row.key.encode(), headers=headers
                    )
                )
        results = await asyncio.gather(*futures, return_exceptions=True)
        done: list[int] = []
        blocked: set[tuple[str, str]] = set()
        for row, result in zip(rows, results, strict=True):
            target = (row.topic, row.key)
            if isinstance(result, BaseException) or target in blocked:
                blocked.add(target)
                continue
            done.append(row.seq)
        if blocked:
            OUTBOX_SEND_FAILURES.inc(len(rows) - len(done))
            err = next(r for r in results if isinstance(r, BaseException))
            log.warning(
                "outbox: %d of %d sends failed (%s)",
                len(rows) - len(done),
                len(rows),
                type(err).__name__,
            )
            if any(isinstance(r, PRODUCER_STATE_LOST) for r in results):
                await self.producer.restart()
        return done

    async def _hold_lease(self) -> bool:
        """One active relay per database, for as long as its process lives: a session
        advisory lock on PostgreSQL, an exclusive lock on a file beside the SQLite file."""
        if self.db.dialect != "postgresql":
            return self._hold_file_lease()
        if self._lease is not None:
            await self._lease.execute(text("SELECT 1"))  # raises if the lease connection died
            return True
        # Autocommit: no statement on the lease connection opens a transaction, so it never
        # sits "idle in transaction" while it holds the (session-level) lock.
        conn = await (await self.db.engine.connect()).execution_options(
            isolation_level="AUTOCOMMIT"
        )
        got = (
            await conn.execute(text("SELECT pg_try_advisory_lock(:id)"), {"id": RELAY_LOCK_ID})
        ).scalar()
        if got:
            self._lease = conn
            RELAY_LEASE.set(1)
            log.info("outbox relay: lease taken")
            return True
        await conn.close()
        return False

    def _hold_file_lease(self) -> bool:
        if self._lease_file is not None:
            return True
        database = make_url(self.db.url).database
        if not database or database == ":memory:":
            return True  # a private in-memory database has one relay by construction
        handle = open(f"{database}.relay-lock", "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._lease_file = handle
        RELAY_LEASE.set(1)
        log.info("outbox relay: lease taken")
        return True

    async def _release_lease(self) -> None:
        RELAY_LEASE.set(0)
        if self._lease_file is not None:
            handle, self._lease_file = self._lease_file, None
            handle.close()  # closing drops the flock
        if self._lease is not None:
            conn, self._lease = self._lease, None
            try:
                # Close the server session itself: returned to the pool, the connection would
                # keep the session-level advisory lock and no other relay could take over.
                await conn.invalidate()
                await conn.close()
            except Exception:
                pass

    async def pending(self) -> int:
        async with self.db.reading() as session:
            return (
                await session.execute(select(func.count()).select_from(self.table))
            ).scalar_one()
