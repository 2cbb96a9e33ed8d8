"""The ops gauges move with a real flow and return to zero after it, as the `/metrics`
endpoint shows them: events staged and not yet published raise the outbox backlog and the
age of its oldest row; events published and not yet handled (the handler is held) raise the
consumer's lag on the real broker; once everything is handled, all of them read zero."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import MESSAGING
from shared.clock import FixedClock, SystemClock
from shared.contracts.envelope import Envelope
from shared.contracts.events import EnrollmentConfirmed
from shared.db import Database
from shared.kafka.connection import KafkaConnection
from shared.messaging.consumer import ConsumerSpec, IdempotentConsumer
from shared.messaging.dead_letters import DeadLetters
from shared.messaging.outbox import Outbox, OutboxRelay, Producer
from shared.messaging.subscription import subscribe
from shared.telemetry.sampling import OpsSampler
from shared.testing import a_confirmation, sqlite_database
from shared.web import ops
from tests.integration.kafka_tools import eventually, new_topic

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "enrollment" / "migrations"
EVENTS = 5


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_database(MIGRATIONS, tmp_path / "ops.db") as database:
        yield database


async def scrape(app: FastAPI) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """What `GET /metrics` answers: each sample's value by name and labels."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ops") as client:
        answer = await client.get("/metrics")
    assert answer.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


async def test_outbox_age_and_consumer_lag_rise_during_a_flow_and_return_to_zero(
    db: Database, kafka_admin: KafkaConnection
) -> None:
    topic = await new_topic(kafka_admin, "ops", partitions=1, dlq=True)
    group = f"it-ops-{uuid.uuid4().hex[:6]}"
    lag_key = ("bigschool_consumer_lag", (("group", group), ("partition", "0"), ("topic", topic)))
    app = FastAPI()
    app.include_router(ops.router)

    outbox = Outbox(MESSAGING, "bigschool/zj/enrollment", SystemClock())
    producer = Producer(kafka_admin, client_id=group)
    relay = OutboxRelay(db, MESSAGING, producer)
    await producer.start()
    gate, handled = asyncio.Event(), []
    gate.set()  # the first event goes through: the group has committed an offset

    async def held(_session: AsyncSession, _event: EnrollmentConfirmed, env: Envelope) -> None:
        await gate.wait()
        handled.append(env.id)

    spec = ConsumerSpec(group, [topic], group, {EnrollmentConfirmed: held})
    consumer = IdempotentConsumer(spec, db, MESSAGING, DeadLetters(producer, group))
    broker = KafkaBroker(kafka_admin.bootstrap_servers, security=kafka_admin.faststream_security())
    subscribe(broker, consumer, session_timeout_ms=6000, heartbeat_interval_ms=1000)
    later = FixedClock(datetime.now(UTC))
    sampler = OpsSampler(db, MESSAGING.outbox, later, broker.subscribers)
    await broker.start()
    try:
        async with db.transaction() as session:
            await outbox.stage(session, a_confirmation("prog-ops"), topic=topic)
        assert await relay.relay_once() == 1
        await eventually(lambda: _true(len(handled) == 1), 30, "the first event handled")

        gate.clear()
        async with db.transaction() as session:
            for _ in range(EVENTS):
                await outbox.stage(session, a_confirmation("prog-ops"), topic=topic)
        # Sampled half a minute after the rows were staged: the oldest is at least that old.
        later.at = datetime.now(UTC) + timedelta(seconds=30)
        await sampler.sample()
        during = await scrape(app)
        assert during[("bigschool_outbox_backlog", ())] == EVENTS
        assert during[("bigschool_outbox_oldest_age_seconds", ())] >= 30

        assert await relay.relay_once() == EVENTS

        async def lag_seen() -> bool:  # the consumer holds the batch: fetched, not committed
            await sampler.sample()
            return (await scrape(app)).get(lag_key, 0) > 0

        await eventually(lag_seen, 30, "the held consumer's lag on /metrics")
        after_relay = await scrape(app)
        assert after_relay[("bigschool_outbox_backlog", ())] == 0
        assert after_relay[("bigschool_outbox_oldest_age_seconds", ())] == 0
        assert after_relay[lag_key] == EVENTS
        assert len(handled) == 1

        gate.set()
        await eventually(lambda: _true(len(handled) == 1 + EVENTS), 30, "every event handled")

        async def caught_up() -> bool:
            await sampler.sample()
            return (await scrape(app)).get(lag_key) == 0

        await eventually(caught_up, 30, "the lag back at zero on /metrics")
    finally:
        gate.set()
        await broker.stop()
        await producer.stop()


async def _true(value: bool) -> bool:
    return value
