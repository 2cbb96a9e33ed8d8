"""The metrics operations watch: each appears on /metrics with its labels and moves when it
should (HTTP per route template, outbox backlog and age, consumer lag, relay lease, DLQ)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from aiokafka import TopicPartition
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY
from sqlalchemy import delete

from enrollment.models import MESSAGING
from shared.clock import FixedClock
from shared.contracts.events import EnrollmentConfirmed
from shared.contracts.topics import ENROLLMENT
from shared.db import Database
from shared.kafka.connection import KafkaConnection
from shared.messaging.consumer import ConsumerSpec, IdempotentConsumer, Outcome
from shared.messaging.outbox import Outbox, OutboxRelay, Producer
from shared.telemetry.sampling import OpsSampler
from shared.telemetry.testing import span_collector, trace_id_of
from shared.testing import FakeDeadLetters, FakeRecord, a_confirmation, sqlite_database
from shared.web import ops
from shared.web.trace import instrument_http

MIGRATIONS = Path(__file__).resolve().parents[2] / "services/enrollment/migrations"
AT = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def sample(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_database(MIGRATIONS, tmp_path / "metrics.db") as database:
        yield database


def app_with_a_route() -> FastAPI:
    app = FastAPI()
    app.include_router(ops.router)

    @app.get("/programmes/{programme_id}")
    async def programme(programme_id: str) -> dict[str, str]:
        if programme_id == "boom":
            raise RuntimeError("a bug")
        return {"id": programme_id}

    instrument_http(app)
    return app


async def get(app: FastAPI, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path, headers=headers)


async def test_http_requests_are_counted_by_route_template_not_raw_path() -> None:
    app = app_with_a_route()
    ok = {"method": "GET", "route": "/programmes/{programme_id}", "status": "200"}
    failed = {**ok, "status": "500"}
    before_ok, before_failed = (
        sample("bigschool_http_requests_total", ok),
        sample("bigschool_http_requests_total", failed),
    )
    before_unmatched = sample(
        "bigschool_http_requests_total", {"method": "GET", "route": "unmatched", "status": "404"}
    )
    await get(app, "/programmes/p-1")
    await get(app, "/programmes/p-2")
    assert (await get(app, "/programmes/boom")).status_code == 500
    await get(app, "/no/such/path")

    assert sample("bigschool_http_requests_total", ok) == before_ok + 2
    assert sample("bigschool_http_requests_total", failed) == before_failed + 1
    assert (
        sample(
            "bigschool_http_requests_total",
            {"method": "GET", "route": "unmatched", "status": "404"},
        )
        == before_unmatched + 1
    )
    latency = {"method": "GET", "route": "/programmes/{programme_id}"}
    assert sample("bigschool_http_request_seconds_count", latency) >= 3
    text = (await get(app, "/metrics")).text
    assert 'route="/programmes/{programme_id}"' in text
    assert "p-1" not in text  # never the raw path


async def test_a_request_span_continues_the_incoming_traceparent() -> None:
    spans: InMemorySpanExporter = span_collector()
    spans.clear()
    incoming = "00-" + "12" * 16 + "-" + "34" * 8 + "-01"
    await get(app_with_a_route(), "/programmes/p-1", {"traceparent": incoming})
    await get(app_with_a_route(), "/healthz", {"traceparent": incoming})
    servers = [s for s in spans.get_finished_spans() if s.name.startswith("GET ")]
    assert [s.name for s in servers] == ["GET /programmes/{programme_id}"]  # probes untraced
    assert trace_id_of(servers[0]) == "12" * 16


async def test_outbox_backlog_and_oldest_age_follow_the_unsent_rows(db: Database) -> None:
    clock = FixedClock(AT)
    outbox = Outbox(MESSAGING, "bigschool/zj/enrollment", clock)
    sampler = OpsSampler(db, MESSAGING.outbox, clock)
    await sampler.sample()
    assert sample("bigschool_outbox_backlog") == 0
    assert sample("bigschool_outbox_oldest_age_seconds") == 0

    async with db.transaction() as session:
        await outbox.stage(session, a_confirmation(at=AT), topic=ENROLLMENT)
    clock.at = AT + timedelta(seconds=30)
    async with db.transaction() as session:
        await outbox.stage(session, a_confirmation(at=AT), topic=ENROLLMENT)
    clock.at = AT + timedelta(seconds=90)
    await sampler.sample()
    assert sample("bigschool_outbox_backlog") == 2
    assert sample("bigschool_outbox_oldest_age_seconds") == 90  # the first row's age

    async with db.transaction() as session:
        await session.execute(delete(MESSAGING.outbox))
    await sampler.sample()
    assert sample("bigschool_outbox_backlog") == 0
    assert sample("bigschool_outbox_oldest_age_seconds") == 0


@dataclass
class FakeKafkaConsumer:
    """What the sampler reads of aiokafka's consumer: assignment, high watermark, the
    group's committed offset and the position."""

    highwaters: dict[TopicPartition, int | None]
    positions: dict[TopicPartition, int] = field(default_factory=dict)
    commits: dict[TopicPartition, int] = field(default_factory=dict)

    def assignment(self) -> set[TopicPartition]:
        return set(self.highwaters)

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.highwaters[tp]

    async def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]

    async def committed(self, tp: TopicPartition) -> int | None:
        return self.commits.get(tp)


@dataclass
class FakeSubscriber:
    group_id: str
    consumer: FakeKafkaConsumer | None


async def test_consumer_lag_is_reported_per_group_and_partition(db: Database) -> None:
    p0, p1 = TopicPartition("t.lag", 0), TopicPartition("t.lag", 1)
    kafka = FakeKafkaConsumer({p0: 120, p1: None}, {p0: 100, p1: 0})
    subscribers = [FakeSubscriber("g-lag", kafka), FakeSubscriber("g-idle", None)]
    sampler = OpsSampler(db, MESSAGING.outbox, FixedClock(AT), subscribers)
    labels = {"group": "g-lag", "topic": "t.lag", "partition": "0"}

    await sampler.sample_lag()
    assert sample("bigschool_consumer_lag", labels) == 20  # no commit yet: from the position
    assert REGISTRY.get_sample_value("bigschool_consumer_lag", {**labels, "partition": "1"}) is None

    kafka.positions[p0], kafka.commits[p0] = 120, 110  # fetched all, ten still being handled
    await sampler.sample_lag()
    assert sample("bigschool_consumer_lag", labels) == 10

    kafka.commits[p0] = 120  # caught up
    await sampler.sample_lag()
    assert sample("bigschool_consumer_lag", labels) == 0

    kafka.highwaters.pop(p0)  # the partition moved to another member of the group
    await sampler.sample_lag()
    assert REGISTRY.get_sample_value("bigschool_consumer_lag", labels) is None


async def test_a_partition_that_moved_reads_zero_where_several_workers_share_metrics(
    db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Worker processes' series cannot be removed: the old owner's must not keep the max.
    monkeypatch.setenv(ops.MULTIPROCESS_ENV, str(tmp_path))
    p0 = TopicPartition("t.moved", 0)
    kafka = FakeKafkaConsumer({p0: 50}, {p0: 20}, {p0: 10})
    sampler = OpsSampler(db, MESSAGING.outbox, FixedClock(AT), [FakeSubscriber("g-mv", kafka)])
    labels = {"group": "g-mv", "topic": "t.moved", "partition": "0"}

    await sampler.sample_lag()
    assert sample("bigschool_consumer_lag", labels) == 40

    kafka.highwaters.pop(p0)
    await sampler.sample_lag()
    assert sample("bigschool_consumer_lag", labels) == 0


async def test_the_relay_lease_gauge_is_one_while_this_process_holds_the_lease(
    db: Database,
) -> None:
    relay = OutboxRelay(db, MESSAGING, Producer(KafkaConnection("127.0.0.1:1"), "unused"))
    assert await relay._hold_lease()
    assert sample("bigschool_outbox_relay_lease") == 1
    await relay._release_lease()
    assert sample("bigschool_outbox_relay_lease") == 0


async def test_a_dead_lettered_message_counts_on_its_dlq_topic(db: Database) -> None:
    async def handle(*_: object) -> None:
        raise AssertionError("an invalid body reaches no handler")

    spec = ConsumerSpec("dlq-count", [ENROLLMENT], "g", {EnrollmentConfirmed: handle})
    consumer = IdempotentConsumer(spec, db, MESSAGING, FakeDeadLetters())
    labels = {"topic": f"{ENROLLMENT}.dlq"}
    before = sample("bigschool_dlq_messages_total", labels)
    record = FakeRecord(ENROLLMENT, 0, 7, b"k", b"{}", [("ce_specversion", b"1.0")])
    assert await consumer.process(record) is Outcome.dead_lettered
    assert sample("bigschool_dlq_messages_total", labels) == before + 1


async def test_the_readiness_gauge_follows_each_check(db: Database) -> None:
    healthy = True

    async def kafka() -> None:
        if not healthy:
            raise ConnectionError("broker away")

    async def database() -> None:
        return None

    checks = {"database": database, "kafka": kafka}
    sampler = OpsSampler(db, MESSAGING.outbox, FixedClock(AT), checks=checks)
    await sampler.sample_readiness()
    assert sample("bigschool_ready", {"check": "kafka"}) == 1
    healthy = False
    await sampler.sample_readiness()
    assert sample("bigschool_ready", {"check": "kafka"}) == 0
    assert sample("bigschool_ready", {"check": "database"}) == 1
