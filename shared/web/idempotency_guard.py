"""`Idempotency-Key` on POST: the same key with the same request answers what the first
answered (with `Idempotent-Replayed: true`) and does nothing again; with another request it
is a 409. Keys are per caller and kept for a configurable time (24 h by default).

Only successful (2xx) answers are kept: a request that failed rolled its transaction back,
key row included, so the key is free for a retry. How the key commits with the request's
effect is told in shared/web/idempotency.py.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.db import WRITE_HOOK
from shared.web.asgi import header, principal_of, send_problem
from shared.web.idempotency import HEADER, IdempotencyStore, KeyRecord
from shared.web.problems import Conflict, Unavailable, Unprocessable

log = logging.getLogger(__name__)

REPLAYED = "Idempotent-Replayed"
# What a replay repeats of the first response besides its status and body.
KEPT_HEADERS = frozenset({b"location", b"content-type"})
MAX_KEY_LENGTH = 255


def valid_key(value: str) -> bool:
    """1 to 255 printable ASCII characters (a UUID is the usual choice)."""
    return 0 < len(value) <= MAX_KEY_LENGTH and all(" " <= c <= "~" for c in value)


def fingerprint(scope: Scope, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (scope["method"].encode(), scope["path"].encode(), scope["query_string"]):
        digest.update(part + b"\n")
    digest.update(body)
    return digest.hexdigest()


async def read_body(receive: Receive) -> bytes:
    """The whole request body; the body-limit guard outside bounds how much that can be."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """Hands the app the body already read, then whatever the server says next."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive_again() -> Message:
        return pending.pop() if pending else await receive()

    return receive_again


class _Capture:
    """Passes the response on unchanged while keeping what a replay needs of it."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = [
                (bytes(k).decode("latin-1"), bytes(v).decode("latin-1"))
                for k, v in message.get("headers", [])
                if bytes(k).lower() in KEPT_HEADERS
            ]
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))
        await self._send(message)

    @property
    def succeeded(self) -> bool:
        return 200 <= self.status < 300


class IdempotencyGuard:
    def __init__(self, app: ASGIApp, store: IdempotencyStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = header(scope, b"idempotency-key") if scope["type"] == "http" else None
        principal = principal_of(scope) if key is not None else None
        if key is None or principal is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        if not valid_key(key):
            problem = Unprocessable(
                f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters",
                field=HEADER,
            )
            await send_problem(scope, receive, send, problem)
            return
        body = await read_body(receive)
        claim = self.store.claim(principal.caller_key, key, fingerprint(scope, body))
        try:
            earlier = await self.store.find(claim.caller, key)
        except (DBAPIError, OSError) as exc:
            # The database is away before anything ran: the client retries, with this key.
            log.warning("%s %s: %s", scope["method"], scope["path"], type(exc).__name__)
            away = Unavailable("the service's database is unavailable; retry shortly")
            await send_problem(scope, receive, send, away, [("Retry-After", "1")])
            return
        if earlier is not None:
            await _answer_again(earlier, claim.fingerprint, scope, receive, send)
            return
        response = _Capture(send)
        hook = WRITE_HOOK.set(claim)
        try:
            await self.app(scope, replaying(body, receive), response.send)
        finally:
            WRITE_HOOK.reset(hook)
        if response.succeeded:
            body_out = b"".join(response.chunks)
            try:
                await self.store.record(claim, response.status, response.headers, body_out)
            except (DBAPIError, OSError) as exc:
                # The answer has gone out; only its replay copy is lost (a retry with this
                # key meets the key row the effect's transaction wrote, or runs again).
                log.warning("%s not recorded: %s", HEADER, type(exc).__name__)


async def _answer_again(
    earlier: KeyRecord, fingerprint: str, scope: Scope, receive: Receive, send: Send
) -> None:
    if earlier.fingerprint != fingerprint:
        problem = Conflict(f"this {HEADER} was used for another request", field=HEADER)
        await send_problem(scope, receive, send, problem)
    elif earlier.status is None:
        problem = Conflict(
            f"the first request with this {HEADER} took effect, but its response is not "
            "recorded: it is finishing now, or was interrupted",
            field=HEADER,
        )
        await send_problem(scope, receive, send, problem)
    else:
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in earlier.headers]
        headers += [
            (b"content-length", str(len(earlier.body)).encode()),
            (REPLAYED.lower().encode(), b"true"),
        ]
        await send({"type": "http.response.start", "status": earlier.status, "headers": headers})
        await send({"type": "http.response.body", "body": earlier.body})


def document_idempotency_key(app: FastAPI, kept_hours: float) -> None:
    """Declare the optional header on every POST operation of the app's OpenAPI document:
    the guard honours it on every POST, so the document says so in one place."""
    build = app.openapi
    parameter = {
        "name": HEADER,
        "in": "header",
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
        "description": (
            "Makes a retry safe: the same POST repeated with the same key answers what the "
            f"first answered (with `{REPLAYED}: true`) and does nothing again; the same key "
            f"with another body is a 409. Keys are the caller's own, kept {kept_hours:g} hours."
        ),
    }

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for operations in schema.get("paths", {}).values():
            if (post := operations.get("post")) is not None:
                post.setdefault("parameters", []).append(parameter)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # as FastAPI documents it
