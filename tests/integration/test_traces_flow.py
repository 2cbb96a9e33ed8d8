"""One trace from an HTTP request to a delivery, over the real broker: the request's server
span, the outbox row's `create` span, the relay's publish span, the consumer's span and the
delivery span share one trace id, each the child of the one before it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace import ReadableSpan
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import MESSAGING
from shared.clock import SystemClock
from shared.contracts.envelope import Envelope, header_map
from shared.contracts.events import EnrollmentConfirmed
from shared.db import Database
from shared.kafka.connection import KafkaConnection
from shared.messaging.consumer import ConsumerSpec, IdempotentConsumer
from shared.messaging.dead_letters import DeadLetters
from shared.messaging.outbox import Outbox, OutboxRelay, Producer
from shared.messaging.subscription import subscribe
from shared.telemetry.sampling import OpsSampler
from shared.telemetry.testing import parent_span_id, span_collector, span_id_of, trace_id_of
from shared.testing import sqlite_database
from shared.tracing import current_traceparent, delivery_span, instrument_database
from shared.web.trace import instrument_http
from tests.integration.kafka_tools import eventually, new_topic, read_to_end

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "enrollment" / "migrations"
INCOMING = "00-" + "5e" * 16 + "-" + "7a" * 8 + "-01"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_database(MIGRATIONS, tmp_path / "traces.db") as database:
        instrument_database(database.engine)
        yield database


def enrol_app(db: Database, outbox: Outbox, topic: str) -> FastAPI:
    app = FastAPI()

    @app.post("/programmes/{programme_id}/enrolments", status_code=201)
    async def enrol(programme_id: str) -> dict[str, str]:
        event = EnrollmentConfirmed(
            enrollment_id=str(uuid.uuid4()),
            programme_id=programme_id,
            member_id=str(uuid.uuid4()),
            owner_org="zj",
            home_org="zj",
            decided_at=datetime.now(UTC),
            sequence=1,
        )
        async with db.transaction() as session:
            env = await outbox.stage(session, event, topic=topic)
        return {"ce_id": env.id}

    instrument_http(app)
    return app


def one(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, (name, [s.name for s in spans])
    return found[0]


async def test_a_request_and_everything_it_causes_share_one_trace(
    db: Database, kafka_admin: KafkaConnection
) -> None:
    spans = span_collector()
    spans.clear()
    topic = await new_topic(kafka_admin, "traces", partitions=1, dlq=True)
    group = f"it-traces-{uuid.uuid4().hex[:6]}"
    outbox = Outbox(MESSAGING, "bigschool/zj/enrollment", SystemClock())
    producer = Producer(kafka_admin, client_id=group)
    await producer.start()
    handled: list[Envelope] = []
    planned_in: list[str | None] = []  # what a delivery row written by the handler keeps

    async def notify(_session: AsyncSession, _event: EnrollmentConfirmed, env: Envelope) -> None:
        handled.append(env)
        planned_in.append(current_traceparent())

    spec = ConsumerSpec(group, [topic], group, {EnrollmentConfirmed: notify})
    consumer = IdempotentConsumer(spec, db, MESSAGING, DeadLetters(producer, group))
    broker = KafkaBroker(kafka_admin.bootstrap_servers, security=kafka_admin.faststream_security())
    subscribe(broker, consumer, session_timeout_ms=6000, heartbeat_interval_ms=1000)
    await broker.start()
    try:
        transport = httpx.ASGITransport(app=enrol_app(db, outbox, topic))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answer = await client.post(
                "/programmes/prog-9/enrolments", headers={"traceparent": INCOMING}
            )
        assert answer.status_code == 201
        ce_id = answer.json()["ce_id"]

        sampler = OpsSampler(db, MESSAGING.outbox, SystemClock(), broker.subscribers)
        await sampler.sample_outbox()
        assert REGISTRY.get_sample_value("bigschool_outbox_backlog") == 1

        assert await OutboxRelay(db, MESSAGING, producer).relay_once() == 1
        await eventually(lambda: _true(bool(handled)), 30, "the consumer to handle the event")
        # Later, in the dispatcher's task: from the delivery row.
        with delivery_span("email", "delivery-1", handled[0].id, planned_in[0]):
            pass
        await sampler.sample()
    finally:
        await broker.stop()
        await producer.stop()

    assert handled[0].id == ce_id
    assert REGISTRY.get_sample_value("bigschool_outbox_backlog") == 0
    lag = REGISTRY.get_sample_value(
        "bigschool_consumer_lag", {"group": group, "topic": topic, "partition": "0"}
    )
    assert lag == 0  # sampled from the real subscriber's consumer: caught up

    finished = list(spans.get_finished_spans())
    server = one(finished, "POST /programmes/{programme_id}/enrolments")
    create = next(s for s in finished if s.name == "create" and s.parent)
    publish = one(finished, f"publish {topic}")
    process = one(finished, "process bigschool.enrollment.confirmed.v1")
    deliver = one(finished, "deliver email")
    chain = [server, create, publish, process, deliver]
    assert {trace_id_of(s) for s in chain} == {"5e" * 16}
    assert parent_span_id(server) == "7a" * 8
    assert parent_span_id(create) == span_id_of(server)
    assert parent_span_id(publish) == span_id_of(create)
    assert parent_span_id(process) == span_id_of(create)
    assert parent_span_id(deliver) == span_id_of(process)

    (message,) = await read_to_end(kafka_admin, topic)
    headers = header_map(message.headers)
    assert headers["traceparent"] == f"00-{'5e' * 16}-{span_id_of(create)}-01"
    # The request's SQL, the outbox row among it, is part of the request's span.
    statements = {
        str((s.attributes or {}).get("db.statement", "")).split("(")[0].strip()
        for s in finished
        if parent_span_id(s) == span_id_of(server)
    }
    assert "INSERT INTO outbox" in statements, statements


async def _true(value: bool) -> bool:
    return value
