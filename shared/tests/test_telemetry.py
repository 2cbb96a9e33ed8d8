"""Traces: the W3C context carried by OpenTelemetry, its spans along the messaging path, and
the trace and span ids in log lines."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import text

from shared.contracts.envelope import envelope_for
from shared.db import Database
from shared.logs import JsonFormatter
from shared.telemetry.testing import parent_span_id, span_collector, span_id_of, trace_id_of
from shared.testing import a_confirmation
from shared.tracing import (
    child_traceparent,
    consume_span,
    context_of,
    current_span_id,
    current_trace_id,
    current_traceparent,
    delivery_span,
    instrument_database,
    publish_span,
    reset_traceparent,
    set_traceparent,
    tracer,
)

INCOMING = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"


@pytest.fixture
def spans() -> InMemorySpanExporter:
    exporter = span_collector()
    exporter.clear()
    return exporter


def test_a_malformed_traceparent_names_no_context() -> None:
    assert context_of("00-zz-yy-01") is None
    assert context_of("") is None
    assert context_of(INCOMING) is not None


def test_a_missing_incoming_traceparent_starts_a_new_trace() -> None:
    token = set_traceparent(None)
    try:
        trace_id = current_trace_id()
    finally:
        reset_traceparent(token)
    assert trace_id is not None and len(trace_id) == 32
    assert current_trace_id() is None  # detached again


def test_a_staged_event_carries_its_create_span_under_the_current_one(
    spans: InMemorySpanExporter,
) -> None:
    token = set_traceparent(INCOMING)
    try:
        env = envelope_for(a_confirmation(), source="bigschool/zj/enrollment", at=datetime.now(UTC))
    finally:
        reset_traceparent(token)
    assert env.traceparent is not None
    _, trace_id, span_id, _ = env.traceparent.split("-")
    (create,) = [s for s in spans.get_finished_spans() if s.name == "create"]
    assert trace_id == "ab" * 16 == trace_id_of(create)
    assert span_id == span_id_of(create)
    assert parent_span_id(create) == "cd" * 8
    assert create.kind is SpanKind.PRODUCER


def test_publish_consume_and_delivery_spans_continue_the_events_trace(
    spans: InMemorySpanExporter,
) -> None:
    token = set_traceparent(INCOMING)
    try:
        created = child_traceparent()
    finally:
        reset_traceparent(token)
    ce_id = str(uuid.uuid4())
    with publish_span("bigschool.enrollment", created, ce_id):
        pass
    with consume_span("notify", "bigschool.enrollment.confirmed.v1", ce_id, created):
        planned_in = current_traceparent()  # what the delivery row keeps
    # Later, in the dispatcher's task (or another process after a restart): from the row.
    with delivery_span("email", "delivery-1", ce_id, planned_in):
        pass
    finished = {s.name: s for s in spans.get_finished_spans()}
    publish = finished["publish bigschool.enrollment"]
    process = finished["process bigschool.enrollment.confirmed.v1"]
    deliver = finished["deliver email"]
    created_span = created.split("-")[2]
    assert {trace_id_of(s) for s in (publish, process, deliver)} == {"ab" * 16}
    assert parent_span_id(publish) == created_span
    assert parent_span_id(process) == created_span
    assert parent_span_id(deliver) == span_id_of(process)
    assert (publish.kind, process.kind, deliver.kind) == (
        SpanKind.PRODUCER,
        SpanKind.CONSUMER,
        SpanKind.CLIENT,
    )
    assert publish.attributes is not None
    assert publish.attributes["messaging.message.id"] == ce_id


def test_a_delivery_planned_outside_any_trace_starts_its_own(
    spans: InMemorySpanExporter,
) -> None:
    assert current_traceparent() is None
    with delivery_span("sms", "delivery-2", str(uuid.uuid4()), None):
        pass
    (deliver,) = spans.get_finished_spans()
    assert deliver.parent is None


def test_log_lines_carry_the_current_trace_and_span_ids(spans: InMemorySpanExporter) -> None:
    formatter = JsonFormatter("svc", "zj")
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "hello", None, None)
    with tracer().start_as_current_span("work"):
        line = json.loads(formatter.format(record))
        expected = (current_trace_id(), current_span_id())
    assert (line["trace_id"], line["span_id"]) == expected
    assert "trace_id" not in json.loads(formatter.format(record))  # outside any span


async def test_sql_is_traced_inside_a_trace_and_background_polling_is_not(
    spans: InMemorySpanExporter,
) -> None:
    db = Database("sqlite+aiosqlite:///:memory:")
    instrument_database(db.engine)
    try:
        async with db.reading() as session:
            await session.execute(text("SELECT 1"))  # a background loop's poll: no trace
        with tracer().start_as_current_span("request") as request:
            async with db.reading() as session:
                await session.execute(text("SELECT 2"))
    finally:
        await db.dispose()
    sql = [s for s in spans.get_finished_spans() if s.name != "request"]
    statements = [(s.attributes or {}).get("db.statement") for s in sql]
    assert "SELECT 2" in statements and "SELECT 1" not in statements
    request_id = format(request.get_span_context().span_id, "016x")
    assert {parent_span_id(s) for s in sql} == {request_id}
