"""The request-body guard: a body larger than its path's limit is answered with 413 and not
read further.

A declared `Content-Length` over the limit is refused before the app runs. A body without
one (chunked) is counted as it arrives and cut off as soon as it passes the limit: the app
never holds more than the limit in memory, and whatever it would have answered is replaced
by the 413 (nothing it did is committed, since reading the body comes before any use case).
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.web.asgi import header, send_problem
from shared.web.problems import ContentTooLarge, Problem


class BodyTooLarge(HTTPException):
    """Raised from `receive` when the limit is passed. An HTTPException, so that FastAPI's
    body parsing lets it through instead of turning it into a 400."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="Content too large")


class BodyLimits:
    """A default limit and larger (or smaller) ones for path prefixes, e.g. an upload route.
    The longest prefix that matches whole path segments wins."""

    def __init__(self, default: int, by_prefix: Mapping[str, int] | None = None) -> None:
        self.default = default
        prefixes = {p.rstrip("/") or "/": n for p, n in (by_prefix or {}).items()}
        self._by_prefix = sorted(prefixes.items(), key=lambda item: len(item[0]), reverse=True)

    def for_path(self, path: str) -> int:
        for prefix, limit in self._by_prefix:
            if prefix == "/" or path == prefix or path.startswith(prefix + "/"):
                return limit
        return self.default


def _too_large(limit: int) -> Problem:
    # The limit, not the size received: the size says nothing the caller does not know.
    return ContentTooLarge(f"the request body is larger than {limit} bytes")


class BodyLimitGuard:
    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope["path"])
        declared = header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await send_problem(scope, receive, send, _too_large(limit))
            return
        await _LimitedRequest(self.app, limit).run(scope, receive, send)


class _LimitedRequest:
    """One request under a limit: counts the body it hands on, and knows whether the
    response has begun (after that, a 413 can no longer replace it)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.received = 0
        self.exceeded = False
        self.started = False

    async def run(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.limit:
                    self.exceeded = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            if self.exceeded and not self.started:
                return  # the app's answer to a cut-off body; ours follows
            if message["type"] == "http.response.start":
                self.started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except BodyTooLarge:
            if self.started:
                raise
        if self.exceeded and not self.started:
            await send_problem(scope, receive, send, _too_large(self.limit))
