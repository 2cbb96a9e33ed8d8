"""Idempotent consumers: the one place that turns a Kafka record into a handler call.

For each record, in order:
1. read the CloudEvents headers; a message without them is dead-lettered;
2. an unknown `ce_type` is skipped and counted; a type this consumer does not handle is
   acknowledged and left alone;
3. the `bigschool_orgs` header decides whether this node keeps the event — without
   decoding the body;
4. the body is validated against the type's model; invalid → dead-lettered with the
   failing field locations; a type that must be signed (org-tree events) must carry a
   valid signature of the node its `ce_source` names, else it is dead-lettered;
5. in one transaction: record `(handler, ce_id)` and run the handler; a duplicate is a no-op;
   a handler that refuses the event for good raises `Rejected` (dead-lettered with its reason);
6. only then is the offset committed.

Records arrive in batches (per poll): the records of a batch share one transaction and one
offset commit when all goes well, and are taken one by one, partition by partition, when
anything does not.

A transient fault (database or broker down) is not bad input: the record is retried with
backoff and nothing goes to the dead-letter topic. Input that may become valid soon (an org
or a node key not replicated yet) is *held*: its partition pauses and retries for a bounded
time (`held_limit_seconds`), then the record is dead-lettered and the partition goes on;
other partitions never wait for it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.clock import Clock, SystemClock
from shared.contracts.base import REGISTRY, Event
from shared.contracts.envelope import Envelope, EnvelopeError, header_map, parse
from shared.contracts.topics import dlq
from shared.db import Database
from shared.messaging.dead_letters import DeadLetterSink, RecordLike, field_path
from shared.messaging.holds import Held, Holds
from shared.messaging.tables import MessagingTables
from shared.metrics import (
    DEAD_LETTERS,
    DLQ_MESSAGES,
    EVENTS_CONSUMED,
    HANDLER_SECONDS,
    HELD_MESSAGES,
    TRANSIENT_RETRIES,
    UNKNOWN_EVENT_TYPES,
)
from shared.orgs.signing import SIGNATURE_HEADER, BadSignature, FederationKeys
from shared.tracing import consume_span

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Any, Envelope], Awaitable[None]]
Relevance = Callable[[tuple[str, ...]], Awaitable[bool]]
# Loads, once for a polled batch, what its events' handlers will need (in the same session).
Preload = Callable[[AsyncSession, Sequence[Any]], Awaitable[None]]


class Transient(Exception):
    """Raise from a handler or filter when the fault will pass (e.g. the database is away)."""


class Rejected(Exception):
    """Raise from a handler that refuses an event for good (e.g. an org change by a node
    without the authority): it is dead-lettered with `reason`, and the consumer goes on."""

    def __init__(self, reason: str, fields: Sequence[str] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fields = list(fields)


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    Transient,
    OperationalError,
    InterfaceError,
    OSError,
    TimeoutError,
    KafkaError,
)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, TRANSIENT_ERRORS)


class Outcome(StrEnum):
    handled = "handled"
    duplicate = "duplicate"
    ignored = "ignored"
    filtered = "filtered"
    unknown_type = "unknown_type"
    dead_lettered = "dead_lettered"
    retry_later = "retry_later"
    held = "held"


@dataclass
class ConsumerSpec:
    name: str
    topics: list[str]
    group_id: str
    routes: dict[type[Event], Handler]
    relevant: Relevance | None = None
    description: str = ""
    preload: Preload | None = None


@dataclass
class _Prepared:
    envelope: Envelope
    event: Event | None
    handler: Handler | None
    filtered: bool = False


@dataclass
class BatchResult:
    """What became of a polled batch: offsets to commit, partitions to fetch again from an
    offset, and partitions to leave alone for a while (a held message)."""

    done: int = 0
    commit: dict[TopicPartition, int] = field(default_factory=dict)
    rewind: dict[TopicPartition, int] = field(default_factory=dict)
    pause: dict[TopicPartition, float] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.rewind


def _partition(record: RecordLike) -> TopicPartition:
    return TopicPartition(record.topic, record.partition)


class IdempotentConsumer:
    """Runs one handler group's records through the steps above."""

    def __init__(
        self,
        spec: ConsumerSpec,
        db: Database,
        tables: MessagingTables,
        dead_letters: DeadLetterSink,
        *,
        clock: Clock | None = None,
        signatures: FederationKeys | None = None,
        handler_attempts: int = 3,
        hold_seconds: float = 60.0,
        held_limit_seconds: float = 600.0,
    ) -> None:
        self.spec = spec
        self.db = db
        self.processed = tables.processed
        self.dead_letters = dead_letters
        self.clock = clock or SystemClock()
        self.routes = {model.ce_type: (model, handler) for model, handler in spec.routes.items()}
        self.signatures = signatures
        if signatures is None and any(model.signed for model in spec.routes):
            raise ValueError(f"{spec.name} consumes signed events: it needs the node keys")
        self.handler_attempts = handler_attempts
        self.hold_seconds = hold_seconds
        self.holds = Holds(held_limit_seconds)

    async def process(self, record: RecordLike) -> Outcome:
        outcome = await self._process(record)
        EVENTS_CONSUMED.labels(self.spec.name, outcome.value).inc()
        return outcome

    async def _process(self, record: RecordLike) -> Outcome:
        try:
            headers = header_map(record.headers)
            envelope = parse(headers)
        except EnvelopeError as exc:
            return await self._dead_letter(record, "invalid_envelope", [exc.field])
        if envelope.type not in REGISTRY:
            UNKNOWN_EVENT_TYPES.labels(self.spec.name, envelope.type[:100]).inc()
            log.info("skipping unknown event type %s", envelope.type[:100])
            return Outcome.unknown_type
        route = self.routes.get(envelope.type)
        if route is None:
            return Outcome.ignored
        model, handler = route
        return await self._with_retries(record, headers, envelope, model, handler)

    async def process_batch(self, records: Sequence[RecordLike]) -> BatchResult:
        """Process `records` in order per partition.

        Fast path: every record that changes the database in one transaction (one commit
        for the batch). Anything unusual — bad input, a held or transient fault, a handler
        error — rolls that transaction back and the batch goes partition by partition,
        record by record instead, where each case gets its full treatment (dead letter,
        hold, retries); a partition stops at its first record that is not done."""
        try:
            prepared = await self._prepare(records)
        except Exception:
            prepared = None
        if prepared is not None:
            try:
                outcomes = await self._apply_batch(prepared)
            except Exception as exc:
                log.info(
                    "%s: batch fell back to one by one (%s)", self.spec.name, type(exc).__name__
                )
            else:
                for outcome in outcomes:
                    EVENTS_CONSUMED.labels(self.spec.name, outcome.value).inc()
                result = BatchResult(done=len(records))
                for record in records:
                    result.commit[_partition(record)] = record.offset + 1
                return result
        return await self._one_by_one(records)

    async def _one_by_one(self, records: Sequence[RecordLike]) -> BatchResult:
        by_partition: dict[TopicPartition, list[RecordLike]] = {}
        for record in records:
            by_partition.setdefault(_partition(record), []).append(record)
        result = BatchResult()
        for tp, in_order in by_partition.items():
            for record in in_order:
                outcome = await self.process(record)
                if outcome in (Outcome.retry_later, Outcome.held):
                    result.rewind[tp] = record.offset
                    if outcome is Outcome.held:
                        result.pause[tp] = self.holds.pause_seconds(_position(record))
                    break
                result.commit[tp] = record.offset + 1
                result.done += 1
        return result

    async def _prepare(self, records: Sequence[RecordLike]) -> list[_Prepared] | None:
        """Read and validate without side effects; None when a record needs the slow path."""
        prepared: list[_Prepared] = []
        for record in records:
            headers = header_map(record.headers)
            envelope = parse(headers)
            route = self.routes.get(envelope.type)
            if envelope.type not in REGISTRY:
                return None  # counted there
            if route is None:
                prepared.append(_Prepared(envelope, None, None))
                continue
            if self.spec.relevant and not await self.spec.relevant(envelope.orgs):
                prepared.append(_Prepared(envelope, None, None, filtered=True))
                continue
            model, handler = route
            event = model.model_validate_json(record.value or b"")
            if model.signed:
                self._verify(headers, record, envelope)
            prepared.append(_Prepared(envelope, event, handler))
        return prepared

    async def _apply_batch(self, prepared: list[_Prepared]) -> list[Outcome]:
        """The whole batch in one transaction: one statement finds the events handled
        before, one records the new ones, the spec's `preload` loads what they need, then
        each handler runs in order."""
        outcomes = [Outcome.filtered if item.filtered else Outcome.ignored for item in prepared]
        todo = [i for i, item in enumerate(prepared) if item.handler and item.event]
        if not todo:
            return outcomes  # nothing for this node: no transaction at all
        started = time.perf_counter()
        async with self.db.transaction() as session:
            seen = await self._seen_many(session, [prepared[i].envelope.id for i in todo])
            fresh: list[int] = []
            for i in todo:
                ce_id = prepared[i].envelope.id
                if ce_id in seen:
                    outcomes[i] = Outcome.duplicate
                    continue
                seen.add(ce_id)  # the same event twice in one batch: handled once
                fresh.append(i)
            if fresh:
                now = self.clock.now()
                await session.execute(
                    insert(self.processed),
                    [
                        {
                            "handler": self.spec.name,
                            "ce_id": prepared[i].envelope.id,
                            "processed_at": now,
                        }
                        for i in fresh
                    ],
                )
                if self.spec.preload is not None:
                    await self.spec.preload(session, [prepared[i].event for i in fresh])
            for i in fresh:
                item = prepared[i]
                assert item.event is not None and item.handler is not None
                await self._run_handler(session, item.event, item.envelope, item.handler)
                outcomes[i] = Outcome.handled
        HANDLER_SECONDS.labels(self.spec.name).observe(time.perf_counter() - started)
        return outcomes

    async def _seen_many(self, session: AsyncSession, ce_ids: list[str]) -> set[str]:
        if not ce_ids:
            return set()
        found = await session.execute(
            select(self.processed.c.ce_id).where(
                self.processed.c.handler == self.spec.name, self.processed.c.ce_id.in_(ce_ids)
            )
        )
        return set(found.scalars())

    def _verify(self, headers: dict[str, str], record: RecordLike, envelope: Envelope) -> None:
        assert self.signatures is not None  # checked in __init__ for signed routes
        self.signatures.verify(headers, record.value or b"", envelope.node or "")

    async def _with_retries(
        self,
        record: RecordLike,
        headers: dict[str, str],
        envelope: Envelope,
        model: type[Event],
        handler: Handler,
    ) -> Outcome:
        deadline = time.monotonic() + self.hold_seconds
        backoff, failures = 0.1, 0
        while True:
            try:
                if self.spec.relevant and not await self.spec.relevant(envelope.orgs):
                    outcome = Outcome.filtered
                else:
                    outcome = await self._validate_and_apply(
                        record, headers, envelope, model, handler
                    )
                self.holds.release(_position(record))
                return outcome
            except Held as exc:
                return await self._hold(record, envelope, exc)
            except Rejected as exc:
                return await self._dead_letter(record, exc.reason, exc.fields)
            except Exception as exc:
                if is_transient(exc):
                    TRANSIENT_RETRIES.labels(self.spec.name).inc()
                    log.warning("%s: transient %s; retrying", self.spec.name, type(exc).__name__)
                    if time.monotonic() > deadline:
                        return Outcome.retry_later  # rewind; the next poll brings it back
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                failures += 1
                log.exception(
                    "%s: handler failed (%d/%d)", self.spec.name, failures, self.handler_attempts
                )
                if failures >= self.handler_attempts:
                    return await self._dead_letter(record, f"handler_error:{type(exc).__name__}")
                await asyncio.sleep(backoff)

    async def _validate_and_apply(
        self,
        record: RecordLike,
        headers: dict[str, str],
        envelope: Envelope,
        model: type[Event],
        handler: Handler,
    ) -> Outcome:
        try:
            event = model.model_validate_json(record.value or b"")
        except ValidationError as exc:
            fields = [field_path(err["loc"]) or err["type"] for err in exc.errors()]
            return await self._dead_letter(record, "invalid_body", fields)
        if model.signed:
            try:
                self._verify(headers, record, envelope)
            except BadSignature as exc:
                return await self._dead_letter(record, f"bad_signature:{exc}", [SIGNATURE_HEADER])
        return await self._apply(event, envelope, handler)

    async def _hold(self, record: RecordLike, envelope: Envelope, exc: Held) -> Outcome:
        position = _position(record)
        held_for = self.holds.note(position)
        if self.holds.expired(position):
            self.holds.release(position)
            return await self._dead_letter(record, exc.reason, [exc.field] if exc.field else [])
        HELD_MESSAGES.labels(self.spec.name, exc.reason).inc()
        # Where the message is and why — never its body.
        log.warning(
            "%s: holding %s[%d]@%d ce_id=%s: %s (held %.0f s of %.0f s)",
            self.spec.name,
            record.topic,
            record.partition,
            record.offset,
            envelope.id,
            exc.reason,
            held_for,
            self.holds.limit_seconds,
        )
        return Outcome.held

    async def _apply(self, event: Event, envelope: Envelope, handler: Handler) -> Outcome:
        started = time.perf_counter()
        async with self.db.transaction() as session:
            outcome = await self._handle(session, event, envelope, handler)
        HANDLER_SECONDS.labels(self.spec.name).observe(time.perf_counter() - started)
        return outcome

    async def _handle(
        self, session: AsyncSession, event: Event, envelope: Envelope, handler: Handler
    ) -> Outcome:
        """Record the event id and run the handler, in the caller's transaction."""
        if await self._seen(session, envelope.id):
            return Outcome.duplicate
        await session.execute(
            insert(self.processed).values(
                handler=self.spec.name, ce_id=envelope.id, processed_at=self.clock.now()
            )
        )
        await self._run_handler(session, event, envelope, handler)
        return Outcome.handled

    async def _run_handler(
        self, session: AsyncSession, event: Event, envelope: Envelope, handler: Handler
    ) -> None:
        with consume_span(self.spec.name, envelope.type, envelope.id, envelope.traceparent):
            await handler(session, event, envelope)

    async def _seen(self, session: AsyncSession, ce_id: str) -> bool:
        # Read inside the handler's transaction: a concurrent twin fails on the primary key
        # and is retried, then seen here.
        found = await session.execute(
            select(self.processed.c.ce_id).where(
                self.processed.c.handler == self.spec.name, self.processed.c.ce_id == ce_id
            )
        )
        return found.first() is not None

    async def _dead_letter(
        self, record: RecordLike, reason: str, fields: list[str] | None = None
    ) -> Outcome:
        await self.dead_letters.send(record, reason, fields or [])
        DEAD_LETTERS.labels(self.spec.name, reason.split(":")[0]).inc()
        DLQ_MESSAGES.labels(dlq(record.topic)).inc()
        log.warning(
            "%s: dead-lettered %s[%d]@%d: %s %s",
            self.spec.name,
            record.topic,
            record.partition,
            record.offset,
            reason,
            ",".join(fields or []),
        )
        return Outcome.dead_lettered


def _position(record: RecordLike) -> tuple[str, int, int]:
    return (record.topic, record.partition, record.offset)
