"""What the awards service's PostgreSQL tests share: the app of node hzsteel on a fresh,
migrated PostgreSQL database, its org tree written into the replica directly. It is also the
unit harness's `app` here, so that its `client` and `bus` serve PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from shared.orgs.authority import Org

NODE = "hzsteel"
TREE = [
    Org("zj", "ZJ", None, "superior", "zj"),
    Org("hzsteel", "HZ Steel", "zj", "enterprise", NODE),
    Org("hzsteel-rolling", "Rolling", "hzsteel", "grassroots", NODE),
]


@pytest.fixture
async def pg_awards(fresh_pg_url: str, awards_app_on) -> FastAPI:
    """Node hzsteel's awards app on PostgreSQL at NOW (a FixedClock), without its lifespan."""
    app: FastAPI = await awards_app_on(fresh_pg_url)
    async with app.state.runtime.db.transaction() as session:
        for org in TREE:
            await app.state.context.orgs.apply(session, org)
    return app


@pytest.fixture
def app(pg_awards: FastAPI) -> FastAPI:
    return pg_awards
