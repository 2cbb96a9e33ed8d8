"""The Idempotency-Key guard runs before the app: a database outage while it looks the key up
is a 503 with Retry-After (the client retries with the same key), never a 500; an outage
while it keeps the replay copy does not spoil the answer already sent."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.exc import OperationalError
from starlette.types import Receive, Scope, Send

from shared.auth import Principal, Role
from shared.web.asgi import PRINCIPAL
from shared.web.idempotency import Claim, KeyRecord
from shared.web.idempotency_guard import IdempotencyGuard


class AwayStore:
    """A store whose database is away for look-ups (`find`) or for records (`record`)."""

    def __init__(self, *, find_fails: bool, record_fails: bool) -> None:
        self.find_fails, self.record_fails = find_fails, record_fails
        self.recorded = 0

    def claim(self, caller: str, key: str, fingerprint: str) -> Claim:
        return Claim(self, caller, key, fingerprint)  # type: ignore[arg-type]

    async def find(self, caller: str, key: str) -> KeyRecord | None:
        if self.find_fails:
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError())
        return None

    async def record(self, claim: Claim, status: int, headers: Any, body: bytes) -> None:
        if self.record_fails:
            raise OperationalError("INSERT", {}, ConnectionRefusedError())
        self.recorded += 1


async def created(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def with_caller(app: Any) -> Any:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        caller = Principal(sub="c", org="zj", roles=frozenset({Role.cadre}))
        scope.setdefault("state", {})[PRINCIPAL] = caller
        await app(scope, receive, send)

    return wrapped


async def post(store: AwayStore) -> httpx.Response:
    app = with_caller(IdempotencyGuard(created, store))  # type: ignore[arg-type]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        return await client.post("/things", json={}, headers={"Idempotency-Key": "k-1"})


async def test_an_outage_while_looking_the_key_up_is_503_with_retry_after() -> None:
    response = await post(AwayStore(find_fails=True, record_fails=False))

    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["status"] == 503


async def test_an_outage_while_keeping_the_replay_copy_leaves_the_answer_alone() -> None:
    store = AwayStore(find_fails=False, record_fails=True)

    response = await post(store)

    assert response.status_code == 201
    assert store.recorded == 0
