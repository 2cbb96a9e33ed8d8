"""The rules of the HTTP guards taken one by one: which body limit a path has, what a valid
Idempotency-Key is, how budgets per route class are counted, and how expired keys go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from enrollment.models import IDEMPOTENCY_KEYS
from shared.clock import FixedClock
from shared.db import Database
from shared.testing import migrated
from shared.web.body_limit import BodyLimits
from shared.web.idempotency import IdempotencyPruner, IdempotencyStore
from shared.web.idempotency_guard import fingerprint, valid_key
from shared.web.rate_limit import RateLimits, route_class

MIGRATIONS = Path(__file__).resolve().parents[2] / "services/enrollment/migrations"
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def test_the_longest_matching_path_prefix_sets_the_body_limit() -> None:
    limits = BodyLimits(1_000, {"/rosters": 50_000, "/rosters/archive/": 90_000})

    assert limits.for_path("/members") == 1_000
    assert limits.for_path("/rosters") == 50_000
    assert limits.for_path("/rosters/2026") == 50_000
    assert limits.for_path("/rosters/archive/old") == 90_000


def test_a_prefix_matches_whole_path_segments_only() -> None:
    limits = BodyLimits(1_000, {"/rosters": 50_000})

    assert limits.for_path("/rostersx") == 1_000


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("5f0c7a52-3a1e-4c39-9d7e-1b2b7e0f4a11", True),
        ("a", True),
        ("~" * 255, True),
        ("", False),
        ("x" * 256, False),
        ("line\nbreak", False),
        ("caf\u00e9", False),
    ],
)
def test_an_idempotency_key_is_1_to_255_printable_ascii_characters(key: str, valid: bool) -> None:
    assert valid_key(key) is valid


def test_the_fingerprint_covers_method_path_query_and_body() -> None:
    base = {"method": "POST", "path": "/members", "query_string": b""}
    one = fingerprint(base, b"{}")

    assert fingerprint(dict(base), b"{}") == one
    assert fingerprint({**base, "path": "/programmes"}, b"{}") != one
    assert fingerprint({**base, "query_string": b"dry=1"}, b"{}") != one
    assert fingerprint(base, b"{ }") != one


def test_get_and_head_are_reads_everything_else_a_write() -> None:
    assert [route_class(m) for m in ("GET", "HEAD")] == ["read", "read"]
    assert {route_class(m) for m in ("POST", "PUT", "PATCH", "DELETE")} == {"write"}


async def test_each_route_class_has_its_own_configured_budget_per_caller() -> None:
    limits = RateLimits({"read": "3/minute", "write": "1/minute"})

    reads = [await limits.retry_after("read", "a") for _ in range(4)]
    writes = [await limits.retry_after("write", "a") for _ in range(2)]
    other = await limits.retry_after("read", "b")

    assert reads[:3] == [None] * 3
    assert reads[3] is not None and 1 <= reads[3] <= 60
    assert writes[0] is None and writes[1] is not None
    assert other is None


async def test_several_limits_for_one_class_all_apply() -> None:
    limits = RateLimits({"read": "2/second;3/hour"}, strategy="fixed-window")

    answers = [await limits.retry_after("read", "a") for _ in range(3)]

    assert answers[:2] == [None, None]
    assert answers[2] is not None


def test_a_storage_uri_names_the_async_storage_of_limits() -> None:
    assert RateLimits({"read": "1/minute"}, storage_uri="async+memory://").items["read"]
    with pytest.raises(ValueError):
        RateLimits({"read": "often"})


async def test_the_pruner_deletes_expired_keys_in_batches_and_keeps_live_ones(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"
    await migrated(MIGRATIONS, url)
    db = Database(url)
    ages = [25] * 23 + [23] * 4  # hours: 23 beyond a 24-hour TTL, 4 within it
    async with db.transaction() as session:
        await session.execute(
            insert(IDEMPOTENCY_KEYS),
            [
                {
                    "caller": "c" * 64,
                    "key": f"key-{i}",
                    "fingerprint": "f" * 64,
                    "status": 201,
                    "created_at": NOW - timedelta(hours=age),
                }
                for i, age in enumerate(ages)
            ],
        )
    store = IdempotencyStore(db, IDEMPOTENCY_KEYS, FixedClock(NOW), timedelta(hours=24))
    pruner = IdempotencyPruner(store, batch_size=10)

    assert await pruner.prune_once() == 23
    async with db.reading() as session:
        left = (
            await session.execute(select(func.count()).select_from(IDEMPOTENCY_KEYS))
        ).scalar_one()
    assert left == 4
    assert await pruner.prune_once() == 0
    await db.dispose()
