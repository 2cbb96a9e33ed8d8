"""Roster imports on PostgreSQL at full size: 50,000 rows with 1% bad rows of several kinds,
through the HTTP upload and the service's job worker; progress between chunks; the same file
again; GB18030, UTF-8 and XLSX alike; a worker cancelled mid-chunk and another resuming;
two workers never sharing a job."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import pytest
from sqlalchemy import func, select

from enrollment.app import MIGRATIONS
from enrollment.models import Member, RosterImportError
from enrollment.service.roster import Step
from enrollment.service.roster_worker import RosterImports
from shared.testing import migrated

pytestmark = pytest.mark.integration

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REGISTERED = "bigschool.member.registered.v1"


@pytest.fixture
def pg_node(fresh_pg_url, settings, make_service):
    """`await pg_node(**settings)`: node zj's enrollment service on a fresh PostgreSQL database."""

    async def make(**changes: Any):
        await migrated(MIGRATIONS, fresh_pg_url)
        changes["database_url"] = fresh_pg_url
        return await make_service(settings.model_copy(update=changes))

    return make


async def upload(service, headers, body: bytes, media: str = CSV) -> dict[str, Any]:
    response = await service.client.post(
        "/rosters/imports",
        params={"org": "zj"},
        content=body,
        headers={**headers, "Content-Type": media},
    )
    assert response.status_code == 202, response.text
    return response.json()


async def state(service, headers, job: dict[str, Any]) -> dict[str, Any]:
    got = await service.client.get(f"/rosters/imports/{job['job_id']}", headers=headers)
    return got.json()


async def member_count(db) -> int:
    async with db.reading() as session:
        return int((await session.execute(select(func.count()).select_from(Member))).scalar_one())


async def registered_count(outbox, db) -> int:
    return sum(1 for row in await outbox(db) if row.type == REGISTERED)


async def report(service, headers, job) -> dict[int, tuple[str, str]]:
    got = await service.client.get(job["errors_url"], headers=headers)
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))[1:]
    return {int(line): (column, reason) for line, column, reason in rows}


async def test_fifty_thousand_rows_with_one_percent_bad_all_good_rows_in_all_bad_reported(
    pg_node, token, outbox, make_roster
) -> None:
    service = await pg_node()
    admin = token("zj", "admin")
    sample = make_roster(50_000, bad_every=100)
    job = await upload(service, admin, sample.csv())
    worker = RosterImports(service.db, service.ctx)
    job_id = await worker.claim()
    assert job_id is not None and job_id == job["job_id"]

    progress = []
    while await worker.step(job_id) == Step.imported:
        progress.append((await state(service, admin, job))["done"])

    assert progress == sorted(progress) and len(progress) == 99  # 100 chunks of 500
    done = await state(service, admin, job)
    assert (done["status"], done["done"], done["good"]) == ("done", 50_000, sample.good)
    assert done["errors"] == len(sample.bad) == 500
    assert await member_count(service.db) == sample.good
    assert await registered_count(outbox, service.db) == sample.good
    assert await report(service, admin, job) == sample.bad

    again = await upload(service, admin, sample.csv())  # the same file, again
    await worker.run_once()

    second = await state(service, admin, again)
    assert (second["good"], second["created"], second["updated"]) == (sample.good, 0, 0)
    assert await member_count(service.db) == sample.good
    assert await registered_count(outbox, service.db) == sample.good  # no new events


async def test_fifty_thousand_rows_of_xlsx_with_formula_cells(
    pg_node, token, outbox, make_roster
) -> None:
    service = await pg_node()
    admin = token("zj", "admin")
    sample = make_roster(
        50_000, bad_every=100, kinds=("email", "org", "duplicate", "name", "formula")
    )
    job = await upload(service, admin, sample.xlsx(), XLSX)

    await RosterImports(service.db, service.ctx).run_once()

    done = await state(service, admin, job)
    assert (done["good"], done["errors"]) == (sample.good, len(sample.bad))
    assert await report(service, admin, job) == sample.bad
    assert await member_count(service.db) == sample.good


async def test_gb18030_utf8_and_xlsx_import_the_same_members(
    fresh_pg_url, postgres_server, settings, make_service, token, make_roster
) -> None:
    from tests import infra

    sample = make_roster(5_000, bad_every=50)
    admin = token("zj", "admin")
    seen = []
    for body, media in [(sample.csv("gb18030"), CSV), (sample.csv(), CSV), (sample.xlsx(), XLSX)]:
        url = postgres_server.create_database(infra.unique_db_name())
        await migrated(MIGRATIONS, url)
        service = await make_service(settings.model_copy(update={"database_url": url}))
        await upload(service, admin, body, media)
        await RosterImports(service.db, service.ctx).run_once()
        async with service.db.reading() as session:
            rows = (await session.execute(select(Member))).scalars().all()
        seen.append(
            {
                (m.home_org, m.employee_no): (
                    m.name,
                    m.email,
                    m.phone,
                    m.language,
                    m.joined_on,
                    m.skill_grade,
                    m.birth_date,
                )
                for m in rows
            }
        )

    assert len(seen[0]) == sample.good
    assert seen[0] == seen[1] == seen[2]


async def test_a_worker_cancelled_mid_chunk_leaves_whole_chunks_and_another_finishes(
    pg_node, token, outbox, make_roster
) -> None:
    service = await pg_node(roster_lease_seconds=1.0, roster_chunk_rows=250)
    admin = token("zj", "admin")
    sample = make_roster(5_000, bad_every=100)
    job = await upload(service, admin, sample.csv())
    crashed = RosterImports(service.db, service.ctx)
    task = asyncio.create_task(crashed.run_once())
    for _ in range(3_000):  # until 1,000 rows are in (the worker commits chunk by chunk)
        if (await state(service, admin, job))["done"] >= 1_000:
            break
        await asyncio.sleep(0.01)
    task.cancel()  # in the middle of a chunk, most likely: its transaction is rolled back
    await asyncio.gather(task, return_exceptions=True)
    stopped = await state(service, admin, job)
    assert stopped["status"] == "running" and stopped["done"] % 250 == 0
    assert await member_count(service.db) == stopped["good"]  # whole chunks, nothing else

    await asyncio.sleep(1.1)  # the lease runs out
    assert await RosterImports(service.db, service.ctx).run_once()

    done = await state(service, admin, job)
    assert (done["status"], done["done"], done["good"]) == ("done", 5_000, sample.good)
    assert await member_count(service.db) == sample.good
    assert await registered_count(outbox, service.db) == sample.good
    async with service.db.reading() as session:
        errors = (await session.execute(select(func.count(RosterImportError.line)))).scalar_one()
    assert errors == len(sample.bad)


async def test_two_workers_never_take_the_same_job(pg_node, token, outbox, make_roster) -> None:
    service = await pg_node(roster_chunk_rows=100)
    admin = token("zj", "admin")
    # The same keys in both files (and 1,000 more in the second): chunks of the two jobs
    # race to register the same members; the loser's chunk is retried, its rows updates.
    jobs = [
        await upload(service, admin, make_roster(2_000, bad_every=0).csv()),
        await upload(service, admin, make_roster(3_000, bad_every=0).csv()),
    ]
    workers = [RosterImports(service.db, service.ctx) for _ in range(3)]

    taken = await asyncio.gather(*(w.claim() for w in workers))

    assert sorted(t is None for t in taken) == [False, False, True]
    assert {t for t in taken if t} == {j["job_id"] for j in jobs}
    await asyncio.gather(*(w.run_job(t) for w, t in zip(workers, taken, strict=True) if t))
    for _ in range(40):  # a chunk that lost the race waits out its backoff (2 s)
        if [(await state(service, admin, j))["status"] for j in jobs] == ["done", "done"]:
            break
        await asyncio.sleep(0.5)
        await workers[2].run_once()
    assert [(await state(service, admin, j))["good"] for j in jobs] == [2_000, 3_000]
    assert await member_count(service.db) == 3_000
    assert await registered_count(outbox, service.db) == 3_000  # once each: no change, no event
