"""What an HTTP request leaves behind for operations: its OpenTelemetry server span (the
incoming W3C `traceparent` is its parent; log lines and the events the request stages carry
it) and its count and duration per route template."""

from __future__ import annotations

import time

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.metrics import HTTP_REQUESTS, HTTP_SECONDS

# Probes and scrapes would drown the traces of real work.
UNTRACED = "/healthz,/readyz,/metrics"
UNMATCHED = "unmatched"  # a path no route knows: one label, whatever was asked


def instrument_http(app: FastAPI) -> None:
    """Server spans for every request but probes and scrapes, and the HTTP metrics."""
    app.add_middleware(HttpMetricsMiddleware)
    # One span per request: not one more per ASGI message sent or received.
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls=UNTRACED, exclude_spans=["receive", "send"]
    )


class HttpMetricsMiddleware:
    """Requests and their durations by method, route template (`/programmes/{id}`, never the
    raw path: one series per route) and status. Plain ASGI: no task group per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception before the response started

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = route_template(scope)
            method = scope.get("method", "")
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_SECONDS.labels(method, route).observe(time.perf_counter() - started)


def route_template(scope: Scope) -> str:
    """The matched route's path template; the router leaves the route in the scope."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else UNMATCHED
