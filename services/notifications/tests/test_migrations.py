from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from notifications.app import MIGRATIONS
from notifications.models import Base
from shared.migrations import upgrade_to_head


async def test_the_migrations_create_exactly_the_tables_the_models_describe(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}"
    await upgrade_to_head(MIGRATIONS, url)
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    await engine.dispose()
    assert diff == []
