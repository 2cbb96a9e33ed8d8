"""Trace context of an HTTP request: the incoming W3C `traceparent` (or a new trace) is the
current one while the request runs — in log lines, and in the events it stages."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from shared.tracing import reset_traceparent, set_traceparent


class TraceContextMiddleware:
    """Plain ASGI (no task group per request, unlike a `@app.middleware` function)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"traceparent"), None
        )
        token = set_traceparent(incoming)
        try:
            await self.app(scope, receive, send)
        finally:
            reset_traceparent(token)
