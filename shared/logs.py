"""Structured JSON logs, one object a line, with the current trace and span ids."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from types import TracebackType

from pydantic import ValidationError

from shared.tracing import current_span_id, current_trace_id

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str, node: str) -> None:
        super().__init__()
        self.service = service
        self.node = node

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
            "node": self.node,
        }
        if trace_id := current_trace_id():
            entry["trace_id"] = trace_id
            entry["span_id"] = current_span_id() or ""
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)

    def formatException(self, ei: ExcInfo) -> str:
        # A ValidationError's text quotes the input (a message body, a request's fields):
        # such a chain is told by locations and error types only, without the traceback.
        if ei[1] is not None and any(isinstance(e, ValidationError) for e in _chain(ei[1])):
            return " <- ".join(_without_values(e) for e in _chain(ei[1]))
        return super().formatException(ei)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and the exceptions it was raised from or while handling, as a traceback has them."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )


def _without_values(exc: BaseException) -> str:
    if not isinstance(exc, ValidationError):
        return type(exc).__name__  # its message may quote the ValidationError
    where = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['type']}"
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    )
    return f"ValidationError ({exc.title}, {exc.error_count()}): {where}"


def configure_logging(service: str, node: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service, node))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "uvicorn.access", "faststream"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
