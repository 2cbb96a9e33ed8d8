"""On PostgreSQL, which cannot store a NUL in text: a member name with one is a 422 and nothing
is written; and if one ever got past the schema, the database error would not carry the
member's e-mail or phone into an error text or a log line."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from enrollment.app import MIGRATIONS, create_app
from enrollment.models import Member
from enrollment.schemas import MemberIn
from enrollment.service.members import register_member
from shared.logs import JsonFormatter
from shared.testing import migrated

pytestmark = pytest.mark.integration

EMAIL = "wang.xiaoming@hzsteel.example"
PHONE = "+86 571 5550 1234"


@pytest.fixture
async def pg_node(fresh_pg_url, settings, seed_orgs) -> AsyncIterator:
    """Node zj's enrollment app on a fresh PostgreSQL database, the demo tree seeded."""
    await migrated(MIGRATIONS, fresh_pg_url)
    app = create_app(settings.model_copy(update={"database_url": fresh_pg_url}))
    ctx, db = app.state.context, app.state.runtime.db
    await seed_orgs(ctx, db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://zj.test") as client:
        yield client, ctx, db
    await db.dispose()


async def _members(db) -> int:
    async with db.reading() as session:
        return (await session.execute(select(func.count()).select_from(Member))).scalar_one()


async def test_a_nul_in_a_member_name_is_a_422_and_nothing_is_written(
    pg_node, token, outbox
) -> None:
    client, _ctx, db = pg_node
    body = {"home_org": "hzsteel-rolling", "name": "Wang\x00Xiaoming", "email": EMAIL}

    response = await client.post("/members", json=body, headers=token("hzsteel-rolling", "cadre"))

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["name"]
    assert EMAIL not in response.text
    assert await _members(db) == 0
    assert await outbox(db) == []


async def test_the_database_error_of_a_nul_past_the_schema_carries_no_contact_data(
    pg_node,
) -> None:
    _client, ctx, db = pg_node
    # What the schema now refuses, forced through: the INSERT that once logged its parameters.
    data = MemberIn.model_construct(
        home_org="hzsteel-rolling",
        name="Wang\x00Xiaoming",
        email=EMAIL,
        phone=PHONE,
        employee_no=None,
        language="zh",
    )

    with pytest.raises(DBAPIError) as caught:
        async with db.transaction() as session:
            await register_member(session, ctx, data)

    error = caught.value
    line = JsonFormatter("enrollment", "zj").format(
        logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), (DBAPIError, error, None))
    )
    for text in (str(error), line):
        assert "INSERT INTO members" in text
        assert EMAIL not in text and PHONE not in text and "Xiaoming" not in text
    assert await _members(db) == 0
