"""What the enrollment service's database tests share: each runs on real PostgreSQL and on
SQLite, migrated with the service's own migrations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event

from enrollment.app import MIGRATIONS
from shared.clock import FixedClock
from shared.db import Database
from shared.testing import migrated

NOW = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(params=["postgresql", "sqlite"])
def backend_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A fresh database of each engine (PostgreSQL: the `fresh_pg_url` fixture)."""
    if request.param == "postgresql":
        yield request.getfixturevalue("fresh_pg_url")
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'enrollment.db'}"


@pytest.fixture
async def owner(backend_url: str, context_for: Any, seed_orgs: Any) -> tuple[Any, Database]:
    """Node zj's use-case context on a migrated database with the org tree, at NOW."""
    await migrated(MIGRATIONS, backend_url)
    ctx, db = context_for(backend_url, FixedClock(NOW))
    await seed_orgs(ctx, db)
    return ctx, db


class ConnectionGauge:
    """Counts connections checked out of the pool at the same time."""

    def __init__(self, db: Database) -> None:
        self.busy = self.peak = 0
        pool = db.engine.sync_engine.pool
        event.listen(pool, "checkout", self._out)
        event.listen(pool, "checkin", self._in)

    def _out(self, *_args: Any) -> None:
        self.busy += 1
        self.peak = max(self.peak, self.busy)

    def _in(self, *_args: Any) -> None:
        self.busy -= 1


@pytest.fixture
def connection_gauge() -> type[ConnectionGauge]:
    """`connection_gauge(db)`: how many pooled connections a test held at once."""
    return ConnectionGauge
