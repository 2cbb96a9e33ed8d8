"""Roll-up queries on a superior's subtree: `orgs` orgs (a top, 20 cities, 20 enterprises per
city, grassroots unions below) and 1,000,000 members' worth of snapshots (two years of them),
written straight into a migrated PostgreSQL enrollment database with COPY — not through
Kafka. Then the service's own query functions (service/rollups.py, as the API calls them)
are timed: the top org's subtree roll-up, its drill-down (every city's subtree, with the
suppression rule), and a drill-down three levels down (an enterprise: the families of every
org on its path are summed too). Goal: p99 under 200 ms. A limit-free figure (a ceiling).
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg

from bench.common import ENROLLMENT_MIGRATIONS, RunEnv, log, percentile
from bench.report import Figure
from enrollment.service.rollups import children_rollup, subtree_rollup
from enrollment.stats_repository import AREAS
from shared.db import Database
from shared.migrations import upgrade_to_head

YEAR = 2030
CITIES, ENTERPRISES = 20, 20
MEMBERS = 1_000_000
GOAL_MS = 200.0

Org = tuple[str, str, str | None, str, str, datetime]  # orgs table row


def tree(orgs: int) -> list[Org]:
    """A top, its cities, their enterprises, and grassroots unions dealt round the
    enterprises until there are `orgs` orgs."""
    now = datetime(2030, 1, 1, tzinfo=UTC)
    rows: list[Org] = [("b-top", "Top", None, "superior", "bench", now)]
    enterprises = []
    for c in range(CITIES):
        rows.append((f"b-c{c}", f"City {c}", "b-top", "superior", "bench", now))
        for e in range(ENTERPRISES):
            enterprises.append(f"b-c{c}-e{e}")
            rows.append((enterprises[-1], f"Ent {c}.{e}", f"b-c{c}", "enterprise", "bench", now))
    for g in range(max(0, orgs - len(rows))):
        parent = enterprises[g % len(enterprises)]
        rows.append((f"{parent}-g{g}", f"Union {g}", parent, "grassroots", "bench", now))
    return rows


def snapshots(orgs: list[Org], years: list[int], rng: random.Random) -> list[tuple[object, ...]]:
    """Members spread over the grassroots unions (some small ones among them), their
    participants, hours and completions; a budget for every enterprise."""
    grassroots = [o for o in orgs if o[3] == "grassroots"]
    weights = [rng.choice([1, 3, 60, 100, 150]) for _ in grassroots]
    scale = MEMBERS / sum(weights)
    sizes = [max(1, round(w * scale)) if w > 3 else w for w in weights]
    sizes[sizes.index(max(sizes))] += MEMBERS - sum(sizes)  # exactly MEMBERS in all
    out: list[tuple[object, ...]] = []
    now = datetime(2030, 6, 1, tzinfo=UTC)
    for year in years:
        for org, members in zip(grassroots, sizes, strict=True):
            areas: list[object] = []
            for _ in AREAS:
                done = rng.randint(0, members)
                areas += [float(done * 8), done]
            out.append(
                (
                    org[0],
                    year,
                    1,
                    "grassroots",
                    org[2],
                    "bench",
                    members,
                    members // 2,
                    *areas,
                    0,
                    0,
                    now,
                    now,
                )
            )
        for org in orgs:
            if org[3] != "grassroots":
                zeros = [0.0, 0] * len(AREAS)
                out.append(
                    (
                        org[0],
                        year,
                        1,
                        org[3],
                        org[2],
                        "bench",
                        0,
                        0,
                        *zeros,
                        50_000,
                        20_000,
                        now,
                        now,
                    )
                )
    return out


async def fill(url: str, orgs: int) -> None:
    rng = random.Random(2030)
    org_rows = tree(orgs)
    snapshot_rows = snapshots(org_rows, [YEAR - 1, YEAR], rng)
    area_columns = [f"{kind}_{a}" for a in AREAS for kind in ("hours", "completions")]
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.copy_records_to_table(
            "orgs",
            records=org_rows,
            columns=["org_id", "name", "parent_id", "level", "hosted_by", "updated_at"],
        )
        await conn.copy_records_to_table(
            "stats_snapshots",
            records=snapshot_rows,
            columns=[
                "org_id",
                "year",
                "version",
                "level",
                "parent_id",
                "hosted_by",
                "members",
                "participants",
                *area_columns,
                "committed_fen",
                "spent_fen",
                "generated_at",
                "updated_at",
            ],
        )
        await conn.execute("ANALYZE orgs; ANALYZE stats_snapshots")
        total = await conn.fetchval(
            "SELECT sum(members) FROM stats_snapshots WHERE year = $1", YEAR
        )
    finally:
        await conn.close()
    log(f"rollups: {len(org_rows)} orgs, {int(total):,} members, {len(snapshot_rows)} snapshots")


async def timed(runs: int, call: Callable[[], Awaitable[object]]) -> list[float]:
    for _ in range(max(3, runs // 10)):  # warm: plans, caches, the pool
        await call()
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        seconds.append(time.perf_counter() - started)
    return seconds


async def rollups(env: RunEnv, orgs: int, runs: int = 200) -> list[Figure]:
    url = await env.database("bench_rollups")
    await upgrade_to_head(ENROLLMENT_MIGRATIONS, url)
    log(f"rollups: generating {orgs} orgs and {MEMBERS:,} members' snapshots …")
    await fill(url, orgs)
    db = Database(url)
    cases: dict[str, tuple[str, list[str], bool]] = {
        "subtree": ("subtree roll-up of the top org", ["b-top"], False),
        "drilldown": ("drill-down of the top org (every city)", ["b-top"], True),
        "deep_drilldown": (
            "drill-down of an enterprise (its path's families too)",
            ["b-top", "b-c7", "b-c7-e3"],
            True,
        ),
    }
    figures = []
    try:
        for key, (name, path, drill) in cases.items():

            async def call(path: list[str] = path, drill: bool = drill) -> object:
                async with db.reading() as session:
                    if drill:
                        return await children_rollup(session, path, YEAR)
                    return await subtree_rollup(session, path, YEAR)

            seconds = await timed(runs, call)
            p50, p99 = 1000 * percentile(seconds, 50), 1000 * percentile(seconds, 99)
            log(f"rollups: {name}: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
            figures.append(
                Figure(
                    f"roll-ups: {name}, p99",
                    p99,
                    "ms",
                    None,
                    None,
                    GOAL_MS,
                    key=f"rollups_{key}",
                    goal_text=f"p99 < {GOAL_MS:.0f} ms",
                    details={
                        "p50_ms": round(p50, 1),
                        "p99_ms": round(p99, 1),
                        "runs": runs,
                        "orgs": orgs,
                        "members": MEMBERS,
                    },
                )
            )
    finally:
        await db.dispose()
    return figures
