"""A failed statement never carries its parameters (names, e-mails, phones) into an error
text or a log line: every engine is made with ``hide_parameters``."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import make_engine
from shared.logs import JsonFormatter

EMAIL = "wang.xiaoming@private.example"
PHONE = "+86 571 5550 1234"
PEOPLE = sa.table("people", sa.column("name"), sa.column("email"), sa.column("phone"))


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)],
)
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "postgresql":
        url = request.getfixturevalue("fresh_pg_url")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'people.db'}"
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            sa.text("CREATE TABLE people (name VARCHAR(50) NOT NULL, email TEXT, phone TEXT)")
        )
    yield engine
    await engine.dispose()


async def _failed_insert(engine: AsyncEngine) -> DBAPIError:
    """Insert a row the database refuses: a NUL in the name on PostgreSQL (text cannot hold
    one), a missing name on SQLite (which stores NULs)."""
    name = "Wang\x00Xiaoming" if engine.dialect.name == "postgresql" else None
    with pytest.raises(DBAPIError) as caught:
        async with engine.begin() as conn:
            await conn.execute(sa.insert(PEOPLE).values(name=name, email=EMAIL, phone=PHONE))
    return caught.value


async def test_a_failed_statements_error_text_does_not_carry_its_parameters(
    engine: AsyncEngine,
) -> None:
    error = await _failed_insert(engine)

    text = str(error)
    assert "INSERT INTO people" in text, "the statement itself is still there to debug with"
    assert EMAIL not in text and PHONE not in text and "Xiaoming" not in text


async def test_a_log_line_of_the_failed_statement_does_not_carry_its_parameters(
    engine: AsyncEngine,
) -> None:
    error = await _failed_insert(engine)
    record = logging.LogRecord(
        "test", logging.ERROR, __file__, 1, "write failed", (), (DBAPIError, error, None)
    )

    line = JsonFormatter("enrollment", "zj").format(record)

    assert "INSERT INTO people" in json.loads(line)["error"]
    assert EMAIL not in line and PHONE not in line and "Xiaoming" not in line
