"""Spans kept in memory, for tests that follow a trace (the process's one tracer provider
gets one in-memory exporter, however many tests ask)."""

from __future__ import annotations

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.tracing import configure_tracing

_exporter: InMemorySpanExporter | None = None


def span_collector() -> InMemorySpanExporter:
    global _exporter
    if _exporter is None:
        _exporter = InMemorySpanExporter()
        configure_tracing("tests", "test", extra_processor=SimpleSpanProcessor(_exporter))
    return _exporter


def trace_id_of(span: ReadableSpan) -> str:
    assert span.context is not None
    return format(span.context.trace_id, "032x")


def parent_span_id(span: ReadableSpan) -> str | None:
    return format(span.parent.span_id, "016x") if span.parent else None


def span_id_of(span: ReadableSpan) -> str:
    assert span.context is not None
    return format(span.context.span_id, "016x")
