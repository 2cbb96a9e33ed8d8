"""OpenTelemetry traces: one trace from an HTTP request through the outbox row, the Kafka
headers (W3C `traceparent`), every consumer and every channel delivery.

- `configure_tracing` installs the SDK's tracer provider once per process. Spans are always
  made (log lines carry their ids); they leave the process only when an OTLP endpoint is
  configured (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`).
- The context is OpenTelemetry's own: `set_traceparent` / `reset_traceparent` attach and
  detach a remote context read from a `traceparent`; `child_traceparent` is what an event
  staged now carries (a `create` span under the current one, as the messaging conventions
  have it); publishing, consuming and delivering start spans whose parent is that context.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import context, trace
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import get_meter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy.ext.asyncio import AsyncEngine

ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"
TRACES_ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
TRACER_NAME = "bigschool"

_propagator = TraceContextTextMapPropagator()
_lock = threading.Lock()
_provider: TracerProvider | None = None


def configure_tracing(
    service: str, node: str, *, extra_processor: SpanProcessor | None = None
) -> TracerProvider:
    """Install the process's tracer provider (the first call wins: one per process).
    `extra_processor` lets a test collect spans in memory."""
    global _provider
    with _lock:
        if _provider is None:
            attributes = {"service.namespace": "bigschool", "bigschool.node": node}
            if not os.environ.get("OTEL_SERVICE_NAME"):  # the deployment's name wins
                attributes["service.name"] = service
            resource = Resource.create(attributes)
            provider = TracerProvider(resource=resource)
            if os.environ.get(ENDPOINT_ENV) or os.environ.get(TRACES_ENDPOINT_ENV):
                # Imported only when used: no exporter (and no HTTP client) otherwise.
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                    OTLPSpanExporter,
                )

                provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            trace.set_tracer_provider(provider)
            _provider = provider
        if extra_processor is not None:
            _provider.add_span_processor(extra_processor)
        return _provider


def flush_traces(timeout_millis: int = 5_000) -> None:
    """Export what is buffered (on stop, so the last spans are not lost)."""
    if _provider is not None:
        _provider.force_flush(timeout_millis)


# A proxy until the provider is installed, then that provider's tracer (looked up once).
_tracer = trace.get_tracer(TRACER_NAME)


def tracer() -> trace.Tracer:
    return _tracer


# -- the W3C traceparent --------------------------------------------------------------------
def context_of(traceparent: str | None) -> context.Context | None:
    """The remote context a `traceparent` names; None when it is missing or malformed."""
    if not traceparent:
        return None
    ctx = _propagator.extract({"traceparent": traceparent})
    return ctx if trace.get_current_span(ctx).get_span_context().is_valid else None


def traceparent_of(span_context: SpanContext) -> str | None:
    """W3C trace context version 00 with the sampled flag only, as the propagator writes it
    (formatted here: this runs for every event staged)."""
    if not span_context.is_valid:
        return None
    flags = int(span_context.trace_flags) & TraceFlags.SAMPLED
    return f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-{flags:02x}"


def set_traceparent(value: str | None) -> object:
    """Make `value`'s context the current one (a new trace when it is missing or malformed);
    returns the token for `reset_traceparent`."""
    ctx = context_of(value) or trace.set_span_in_context(NonRecordingSpan(_random_context()))
    return context.attach(ctx)


def reset_traceparent(token: object) -> None:
    context.detach(token)  # type: ignore[arg-type]  # the token `attach` returned


def current_span_context() -> SpanContext:
    return trace.get_current_span().get_span_context()


def current_traceparent() -> str | None:
    """The current span's context as a `traceparent` (None outside any trace): what a row
    written now keeps, for work done later in the same trace."""
    return traceparent_of(current_span_context())


def current_trace_id() -> str | None:
    span = current_span_context()
    return trace.format_trace_id(span.trace_id) if span.is_valid else None


def current_span_id() -> str | None:
    span = current_span_context()
    return trace.format_span_id(span.span_id) if span.is_valid else None


def child_traceparent() -> str:
    """The `traceparent` an event staged now carries: its `create` span, a child of the
    current span (with no SDK installed: the same trace and a new span id)."""
    parent = current_span_context()
    with tracer().start_as_current_span("create", kind=SpanKind.PRODUCER) as span:
        created = span.get_span_context()
    if created.is_valid and created.span_id != parent.span_id:
        return traceparent_of(created) or ""
    base = parent if parent.is_valid else _random_context()
    return traceparent_of(_random_context(base.trace_id)) or ""


def _random_context(trace_id: int | None = None) -> SpanContext:
    return SpanContext(
        trace_id=trace_id or int(secrets.token_hex(16), 16),
        span_id=int(secrets.token_hex(8), 16),
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )


# -- spans of the messaging path ------------------------------------------------------------
@contextmanager
def publish_span(topic: str, traceparent: str | None, ce_id: str | None) -> Iterator[Span]:
    """The relay's publish of one outbox row: a child of the row's `create` span."""
    attributes = {"messaging.system": "kafka", "messaging.destination.name": topic}
    if ce_id:
        attributes["messaging.message.id"] = ce_id
    with tracer().start_as_current_span(
        f"publish {topic}",
        context=context_of(traceparent),
        kind=SpanKind.PRODUCER,
        attributes=attributes,
    ) as span:
        yield span


@contextmanager
def consume_span(handler: str, ce_type: str, ce_id: str, traceparent: str | None) -> Iterator[Span]:
    """A consumer handling one event: a child of the producer's context, so the handler's
    log lines, SQL, the events it stages and the deliveries it writes belong to the
    request's trace."""
    with tracer().start_as_current_span(
        f"process {ce_type}",
        context=context_of(traceparent) or context.Context(),
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.consumer.group.name": handler,
            "messaging.message.id": ce_id,
            "cloudevents.event_type": ce_type,
        },
    ) as span:
        yield span


@contextmanager
def delivery_span(
    channel: str, delivery_id: str, ce_id: str | None = None, traceparent: str | None = None
) -> Iterator[Span]:
    """One delivery attempt (SMTP, SMS, webhook): a child of the span that planned it, whose
    context the delivery row keeps (`traceparent`), so it joins the triggering event's trace
    even when it is sent after a restart."""
    attributes = {"bigschool.channel": channel, "bigschool.delivery_id": delivery_id}
    if ce_id:
        attributes["messaging.message.id"] = ce_id
    with tracer().start_as_current_span(
        f"deliver {channel}",
        context=context_of(traceparent) or context.Context(),
        kind=SpanKind.CLIENT,
        attributes=attributes,
    ) as span:
        yield span


def instrument_database(engine: AsyncEngine) -> None:
    """A span per SQL statement of `engine`, under the span current when it runs.

    The instrumentation's engine tracer, per engine: its instrumentor is a process-wide
    singleton that takes one engine only (and declares SQLAlchemy < 2.1; the engine events it
    listens to are the same in 2.1)."""
    connections = get_meter(TRACER_NAME).create_up_down_counter(
        "db.client.connections.usage", unit="connections"
    )
    in_traces = _InTraceOnly(tracer())
    EngineTracer(in_traces, engine.sync_engine, connections)  # type: ignore[no-untyped-call]


class _InTraceOnly(trace.Tracer):
    """Spans only inside a trace: the SQL of a request or of a consumed event is traced, the
    polling of a background loop (the relay, every few hundred milliseconds) is not — each
    poll would otherwise be a trace of its own."""

    def __init__(self, inner: trace.Tracer) -> None:
        self._inner = inner

    # The same parameters as the base class's, passed through.
    def start_span(
        self, name: str, context: context.Context | None = None, *args: Any, **kwargs: Any
    ) -> Span:
        if not trace.get_current_span(context).get_span_context().is_valid:
            return trace.INVALID_SPAN
        return self._inner.start_span(name, context, *args, **kwargs)

    @contextmanager  # a plain context manager where the base class returns its own kind
    def start_as_current_span(  # type: ignore[override]
        self, name: str, context: context.Context | None = None, *args: Any, **kwargs: Any
    ) -> Iterator[Span]:
        if not trace.get_current_span(context).get_span_context().is_valid:
            yield trace.INVALID_SPAN
            return
        with self._inner.start_as_current_span(name, context, *args, **kwargs) as span:
            yield span
