"""The PostgreSQL the fixtures provide works with SQLAlchemy async + asyncpg, one DB per test."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from tests import infra

pytestmark = pytest.mark.integration


async def test_fresh_database_answers_select_1(fresh_pg_url: str) -> None:
    url = make_url(fresh_pg_url)
    assert url.drivername == "postgresql+asyncpg"
    engine = create_async_engine(fresh_pg_url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("select 1"))).scalar_one() == 1
            current = (await conn.execute(text("select current_database()"))).scalar_one()
            max_conn = (await conn.execute(text("show max_connections"))).scalar_one()
    finally:
        await engine.dispose()
    assert current == url.database
    if not os.environ.get(infra.POSTGRES_ENV):  # an external server has its own settings
        # Every service of every node keeps a pool; the default 100 is too small for e2e runs.
        assert int(max_conn) >= 300


async def test_created_databases_are_distinct(postgres_server: infra.PostgresServer) -> None:
    names = [infra.unique_db_name(), infra.unique_db_name()]
    urls = [postgres_server.create_database(name) for name in names]
    try:
        assert urls[0] != urls[1]
        first, second = (create_async_engine(url) for url in urls)
        try:
            async with first.begin() as conn:
                await conn.execute(text("create table marker (id int primary key)"))
                await conn.execute(text("insert into marker values (1)"))
            async with second.connect() as conn:
                seen = (await conn.execute(text("select to_regclass('marker')"))).scalar_one()
                assert (await conn.execute(text("select current_database()"))).scalar_one() == (
                    names[1]
                )
            assert seen is None, "a table created in one database is visible in the other"
            async with first.connect() as conn:
                assert (await conn.execute(text("select count(*) from marker"))).scalar_one() == 1
        finally:
            await first.dispose()
            await second.dispose()
    finally:
        for name in names:
            postgres_server.drop_database(name)
