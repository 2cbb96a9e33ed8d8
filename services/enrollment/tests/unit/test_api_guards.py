"""The shared HTTP guards in front of every route: the token is checked before the body is
read, bodies over the limit are cut off with 413, and each caller has its own rate limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from enrollment.models import MESSAGING, Member
from enrollment.settings import EnrollmentSettings
from shared.auth.tokens import TokenVerifier
from shared.db import Database

PROBLEM = "application/problem+json"
LIMIT = 64 * 1024
CHUNK = 16 * 1024
BURST = 2_000  # the size of the burst in issue 5, finding 8


@pytest.fixture
def settings(settings: EnrollmentSettings) -> EnrollmentSettings:
    return settings.model_copy(
        update={
            "http_max_body_bytes": LIMIT,
            "rate_limit_read": "20/minute",
            "rate_limit_write": "5/minute",
        }
    )


class Upload:
    """A request body that arrives in chunks, counting how much of it was asked for."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.pulled = 0

    async def chunks(self) -> AsyncIterator[bytes]:
        while self.pulled < self.total:
            self.pulled += CHUNK
            yield b"x" * CHUNK


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs while the block runs."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def _count(db: Database, what) -> int:
    async with db.reading() as session:
        return (await session.execute(select(func.count()).select_from(what))).scalar_one()


async def test_a_large_body_without_a_token_is_refused_before_any_of_it_is_read(node) -> None:
    upload = Upload(20 * 1024 * 1024)

    response = await node.client.post("/members", content=upload.chunks())

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert upload.pulled == 0


async def test_a_bad_token_is_refused_before_the_body_is_read(node) -> None:
    upload = Upload(LIMIT * 4)

    response = await node.client.post(
        "/members", content=upload.chunks(), headers={"Authorization": "Bearer not.a.jwt"}
    )

    assert response.status_code == 401
    assert upload.pulled == 0


async def test_a_declared_length_over_the_limit_is_413_before_the_body_is_read(node, token) -> None:
    upload = Upload(LIMIT + 1)
    headers = {**token("hzsteel-rolling", "cadre"), "Content-Length": str(LIMIT + 1)}

    with statements(node.db) as sql:
        response = await node.client.post("/members", content=upload.chunks(), headers=headers)

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert str(LIMIT) in response.json()["detail"]
    assert upload.pulled == 0
    assert sql == []


async def test_a_chunked_body_over_the_limit_is_cut_off_with_413_and_nothing_is_stored(
    node, token
) -> None:
    upload = Upload(LIMIT * 16)

    response = await node.client.post(
        "/members", content=upload.chunks(), headers=token("hzsteel-rolling", "cadre")
    )

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    # Reading stopped at the first chunk past the limit, not at the end of the upload.
    assert upload.pulled == LIMIT + CHUNK
    assert await _count(node.db, Member) == 0
    assert await _count(node.db, MESSAGING.outbox) == 0


async def test_a_body_within_the_limit_reaches_the_route(node, token) -> None:
    body = {"home_org": "hzsteel-rolling", "name": "Li Lei", "email": "li@example.org"}

    response = await node.client.post(
        "/members", json=body, headers=token("hzsteel-rolling", "cadre")
    )

    assert response.status_code == 201, response.text


async def test_a_path_prefix_may_have_a_larger_limit_than_the_default(
    settings: EnrollmentSettings, make_service, token
) -> None:
    roomy = settings.model_copy(update={"http_body_limits": {"/members": LIMIT * 4}})
    service = await make_service(roomy)
    headers = {**token("hzsteel-rolling", "cadre"), "Content-Type": "application/json"}
    upload = b"[" + b" " * (LIMIT * 2) + b"]"

    members = await service.client.post("/members", content=upload, headers=headers)
    programmes = await service.client.post(
        "/programmes", content=upload, headers=token("hzsteel", "cadre")
    )

    assert members.status_code == 422  # read whole, then found not to be a member
    assert programmes.status_code == 413


async def test_the_route_sees_the_principal_the_guard_verified_without_verifying_again(
    node, token, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    verify = TokenVerifier.verify

    def counting(self: TokenVerifier, raw: str):
        calls.append("verify")
        return verify(self, raw)

    monkeypatch.setattr(TokenVerifier, "verify", counting)

    response = await node.client.get("/programmes", headers=token("hzsteel", "cadre"))

    assert response.status_code == 200
    assert calls == ["verify"]


async def test_a_caller_over_the_read_limit_gets_429_with_retry_after(node, token) -> None:
    headers = token("hzsteel", "cadre", sub="busy")
    answers = [(await node.client.get("/programmes", headers=headers)) for _ in range(21)]

    assert [a.status_code for a in answers[:20]] == [200] * 20
    refused = answers[20]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == PROBLEM
    assert 1 <= int(refused.headers["retry-after"]) <= 60


async def test_a_burst_from_one_token_leaves_other_tokens_their_own_budget(node, token) -> None:
    busy, calm = token("hzsteel", "cadre", sub="busy"), token("hzsteel", "cadre", sub="calm")

    with statements(node.db) as sql:
        answers = await asyncio.gather(
            *(node.client.get("/programmes", headers=busy) for _ in range(BURST)),
            *(node.client.get("/programmes", headers=calm) for _ in range(20)),
        )
    burst, others = answers[:BURST], answers[BURST:]

    statuses = [r.status_code for r in burst]
    assert statuses.count(200) == 20
    assert statuses.count(429) == BURST - 20
    assert [r.status_code for r in others] == [200] * 20
    # The refused requests cost the database nothing: only the 40 served ones read it.
    served = sum(1 for r in answers if r.status_code == 200)
    assert len(sql) <= served * 2


async def test_reads_and_writes_have_separate_budgets(node, token, programme_body) -> None:
    headers = token("hzsteel", "cadre", sub="writer")
    writes = [
        await node.client.post("/programmes", json=programme_body(), headers=headers)
        for _ in range(6)
    ]
    read = await node.client.get("/programmes", headers=headers)

    assert [w.status_code for w in writes] == [201] * 5 + [429]
    assert read.status_code == 200


async def test_a_refused_write_is_not_read(node, token) -> None:
    headers = token("hzsteel-rolling", "cadre", sub="flood")
    for _ in range(5):
        await node.client.post("/members", json={}, headers=headers)
    upload = Upload(LIMIT // 2)

    response = await node.client.post("/members", content=upload.chunks(), headers=headers)

    assert response.status_code == 429
    assert upload.pulled == 0


async def test_the_rate_limit_can_be_switched_off(
    settings: EnrollmentSettings, make_service, token
) -> None:
    service = await make_service(settings.model_copy(update={"rate_limit_enabled": False}))
    headers = token("hzsteel", "cadre")

    answers = [await service.client.get("/programmes", headers=headers) for _ in range(25)]

    assert {a.status_code for a in answers} == {200}
