"""W3C trace context carried from HTTP through Kafka headers to consumers and into logs."""

from __future__ import annotations

import contextvars
import secrets

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("traceparent", default=None)


def new_traceparent() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def set_traceparent(value: str | None) -> contextvars.Token[str | None]:
    """Adopt an incoming traceparent (or start a new trace when it is missing or malformed)."""
    parts = (value or "").split("-")
    valid = len(parts) == 4 and len(parts[1]) == 32 and len(parts[2]) == 16
    return _current.set(value if valid else new_traceparent())


def reset_traceparent(token: contextvars.Token[str | None]) -> None:
    _current.reset(token)


def current_trace_id() -> str | None:
    value = _current.get()
    return value.split("-")[1] if value else None


def child_traceparent() -> str:
    """A traceparent for an outgoing message: same trace, new span."""
    trace_id = current_trace_id() or secrets.token_hex(16)
    return f"00-{trace_id}-{secrets.token_hex(8)}-01"
