"""Bring one service's database to the newest revision, then exit: the `migrate` init
container of each service pod runs it before the service starts.

    python -m deploy.k8s.migrate enrollment

Reads BIGSCHOOL_DATABASE_URL like the service, and refuses to run without it (the
settings' default, a SQLite file, is never what a pod means). Safe to run again and from
several pods at once: at head it does nothing, and the migrations take a PostgreSQL
advisory lock, so pods starting together take turns (shared.migrations).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from pathlib import Path

from shared.migrations import upgrade_to_head
from shared.settings import ServiceSettings

SERVICES = ("enrollment", "awards", "notifications")
DATABASE_URL_ENV = "BIGSCHOOL_DATABASE_URL"


def migrations_dir(service: str) -> Path:
    """Where the service keeps its Alembic revisions (its app module knows)."""
    path: Path = importlib.import_module(f"{service}.app").MIGRATIONS
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.k8s.migrate", description=__doc__)
    parser.add_argument("service", choices=SERVICES)
    args = parser.parse_args(argv)
    if not os.environ.get(DATABASE_URL_ENV):
        parser.error(f"{DATABASE_URL_ENV} is not set: which database should be migrated?")
    database_url = ServiceSettings().database_url
    asyncio.run(upgrade_to_head(migrations_dir(args.service), database_url))
    print(f"{args.service}: database at the newest revision")
    return 0


if __name__ == "__main__":
    sys.exit(main())
