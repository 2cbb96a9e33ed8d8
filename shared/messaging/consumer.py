"""Idempotent consumers: the one place that turns a Kafka record into a handler call.

For each record, in order:
1. read the CloudEvents headers; a message without them is dead-lettered;
2. an unknown `ce_type` is skipped and counted; a type this consumer does not handle is
   acknowledged and left alone;
3. the `bigschool_orgs` header decides whether this node keeps the event — without
   decoding the body;
4. the body is validated against the type's model; invalid → dead-lettered with the
   failing field locations;
5. in one transaction: record `(handler, ce_id)` and run the handler; a duplicate is a no-op;
6. only then is the offset committed.

Records arrive in batches (per poll): the records of a batch share one transaction and one
offset commit when all goes well, and are taken one by one when anything does not.

A transient fault (database or broker down) is not bad input: the record is retried with
backoff and nothing goes to the dead-letter topic.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.clock import Clock, SystemClock
from shared.contracts.base import REGISTRY, Event
from shared.contracts.envelope import Envelope, EnvelopeError, header_map, parse
from shared.db import Database
from shared.messaging.dead_letters import DeadLetters, RecordLike, field_path
from shared.messaging.tables import MessagingTables
from shared.metrics import (
    DEAD_LETTERS,
    EVENTS_CONSUMED,
    HANDLER_SECONDS,
    TRANSIENT_RETRIES,
    UNKNOWN_EVENT_TYPES,
)
from shared.tracing import reset_traceparent, set_traceparent

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Any, Envelope], Awaitable[None]]
Relevance = Callable[[tuple[str, ...]], Awaitable[bool]]


class Transient(Exception):
    """Raise from a handler or filter when the fault will pass (e.g. an org not replicated yet)."""


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


@dataclass
class ConsumerSpec:
    name: str
    topics: list[str]
    group_id: str
    routes: dict[type[Event], Handler]
    relevant: Relevance | None = None
    description: str = ""


@dataclass
class _Prepared:
    envelope: Envelope
    event: Event | None
    handler: Handler | None
    filtered: bool = False


class IdempotentConsumer:
    """Runs one handler group's records through the steps above."""

    def __init__(
        self,
        spec: ConsumerSpec,
        db: Database,
        tables: MessagingTables,
        dead_letters: DeadLetters,
        *,
        clock: Clock | None = None,
        handler_attempts: int = 3,
        hold_seconds: float = 60.0,
    ) -> None:
        self.spec = spec
        self.db = db
        self.processed = tables.processed
        self.dead_letters = dead_letters
        self.clock = clock or SystemClock()
        self.routes = {model.ce_type: (model, handler) for model, handler in spec.routes.items()}
        self.handler_attempts = handler_attempts
        self.hold_seconds = hold_seconds

    async def process(self, record: RecordLike) -> Outcome:
        outcome = await self._process(record)
        EVENTS_CONSUMED.labels(self.spec.name, outcome.value).inc()
        return outcome

    async def _process(self, record: RecordLike) -> Outcome:
        try:
            envelope = parse(header_map(record.headers))
        except EnvelopeError as exc:
            return await self._dead_letter(record, "invalid_envelope", [exc.field])
        if envelope.type not in REGISTRY:
            UNKNOWN_EVENT_TYPES.labels(self.spec.name, envelope.type[:100]).inc()
            log.info("skipping unknown event type %s", envelope.type)
            return Outcome.unknown_type
        route = self.routes.get(envelope.type)
        if route is None:
            return Outcome.ignored
        model, handler = route
        return await self._with_retries(record, envelope, model, handler)

    async def process_batch(self, records: Sequence[RecordLike]) -> int:
        """Process `records` in order; returns how many of them, from the start, are done.

        Fast path: every record that changes the database in one transaction (one commit
        for the batch). Anything unusual — bad input, a transient fault, a handler error —
        rolls that transaction back and the batch goes record by record instead, where each
        case gets its full treatment (dead letter, retries)."""
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
                return len(records)
        for done, record in enumerate(records):
            if await self.process(record) is Outcome.retry_later:
                return done
        return len(records)

    async def _prepare(self, records: Sequence[RecordLike]) -> list[_Prepared] | None:
        """Read and validate without side effects; None when a record needs the slow path."""
        prepared: list[_Prepared] = []
        for record in records:
            envelope = parse(header_map(record.headers))
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
            prepared.append(_Prepared(envelope, event, handler))
        return prepared

    async def _apply_batch(self, prepared: list[_Prepared]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        started = time.perf_counter()
        async with self.db.transaction() as session:
            for item in prepared:
                if item.handler is None or item.event is None:
                    outcomes.append(Outcome.filtered if item.filtered else Outcome.ignored)
                    continue
                outcomes.append(
                    await self._handle(session, item.event, item.envelope, item.handler)
                )
        HANDLER_SECONDS.labels(self.spec.name).observe(time.perf_counter() - started)
        return outcomes

    async def _with_retries(
        self, record: RecordLike, envelope: Envelope, model: type[Event], handler: Handler
    ) -> Outcome:
        deadline = time.monotonic() + self.hold_seconds
        backoff, failures = 0.1, 0
        while True:
            try:
                if self.spec.relevant and not await self.spec.relevant(envelope.orgs):
                    return Outcome.filtered
                try:
                    event = model.model_validate_json(record.value or b"")
                except ValidationError as exc:
                    fields = [field_path(err["loc"]) or err["type"] for err in exc.errors()]
                    return await self._dead_letter(record, "invalid_body", fields)
                return await self._apply(event, envelope, handler)
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
        token = set_traceparent(envelope.traceparent)
        try:
            await handler(session, event, envelope)
        finally:
            reset_traceparent(token)
        return Outcome.handled

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


async def _raw(msg: Any) -> Any:
    """FastStream decoder that leaves the body as bytes: the consumer decodes it itself."""
    return msg.body


def subscribe(
    broker: KafkaBroker,
    consumer: IdempotentConsumer,
    *,
    session_timeout_ms: int,
    heartbeat_interval_ms: int,
    batch_size: int = 100,
) -> None:
    """Register `consumer` on the broker: batches, manual commits, from the earliest offset."""
    spec = consumer.spec

    async def on_batch(message: KafkaMessage) -> None:
        records: tuple[Any, ...] = message.raw_message  # type: ignore[assignment]
        try:
            done = await consumer.process_batch(records)
        except Exception as exc:  # the dead-letter send itself failed: broker trouble
            log.warning("%s: %s while dead-lettering; will retry", spec.name, type(exc).__name__)
            done = 0
        if done == len(records):
            await message.ack()
        else:
            await _commit_and_rewind(message.consumer, records, done)

    broker.subscriber(
        *spec.topics,
        group_id=spec.group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        batch=True,
        max_records=batch_size,
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=heartbeat_interval_ms,
        decoder=_raw,
        title=spec.group_id,
        description=" ".join(
            [spec.description, "Consumes:", ", ".join(m.ce_type for m in spec.routes)]
        ),
    )(on_batch)


async def _commit_and_rewind(kafka: Any, records: Sequence[Any], done: int) -> None:
    """Commit the records that are done; fetch the rest again (after a pause for the fault)."""
    committed: dict[TopicPartition, int] = {}
    for record in records[:done]:
        committed[TopicPartition(record.topic, record.partition)] = record.offset + 1
    if committed:
        await kafka.commit(committed)
    rewind: dict[TopicPartition, int] = {}
    for record in records[done:]:
        tp = TopicPartition(record.topic, record.partition)
        rewind[tp] = min(rewind.get(tp, record.offset), record.offset)
    for tp, offset in rewind.items():
        kafka.seek(tp, offset)
