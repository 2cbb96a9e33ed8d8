"""Requests racing with one Idempotency-Key take effect exactly once: the key row is
inserted in the request's own write transaction, so on PostgreSQL the second insert waits
for the first transaction and then fails on the primary key (and on SQLite the writers
queue on BEGIN IMMEDIATE). No request is retried by the test; none is timed."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from enrollment.app import MIGRATIONS
from enrollment.models import IDEMPOTENCY_KEYS, MESSAGING, Programme
from shared.db import Database
from shared.testing import migrated

pytestmark = pytest.mark.integration

PARALLEL = 12


async def _count(db: Database, what) -> int:
    async with db.reading() as session:
        return (await session.execute(select(func.count()).select_from(what))).scalar_one()


async def test_parallel_requests_with_one_key_take_effect_exactly_once(
    backend_url, settings, make_service, token, programme_body
) -> None:
    await migrated(MIGRATIONS, backend_url)
    service = await make_service(settings.model_copy(update={"database_url": backend_url}))
    headers = {**token("hzsteel", "cadre"), "Idempotency-Key": "one-key-for-all"}
    body = programme_body()

    answers = await asyncio.gather(
        *(service.client.post("/programmes", json=body, headers=headers) for _ in range(PARALLEL))
    )

    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409}, statuses
    created = [a for a in answers if a.status_code == 201]
    assert created
    assert len({a.content for a in created}) == 1
    assert sum("idempotent-replayed" not in a.headers for a in created) == 1
    assert await _count(service.db, Programme) == 1
    assert await _count(service.db, MESSAGING.outbox) == 1
    assert await _count(service.db, IDEMPOTENCY_KEYS) == 1

    # Once the first answer is recorded, a retry is a plain replay.
    retry = await service.client.post("/programmes", json=body, headers=headers)
    assert retry.status_code == 201
    assert retry.content == created[0].content
