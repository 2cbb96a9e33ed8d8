"""Roster import: a CSV file of `rows` members (1% bad rows: bad e-mail, unknown org,
duplicate employee number, missing name) into a migrated PostgreSQL database of the
enrollment service, through the real path — the file read and checked once
(`read_roster`), the job stored with its rows (`create_import`), then the service's job
worker (`RosterImports`: chunks of 500, each one transaction with its members, their
`member.registered` events in the outbox, the rows' errors and the progress) until the job
is done. Timed from the upload's read to the job's end.
Limit: asyncpg's COPY (`copy_records_to_table`) of the same rows, already typed, into a
bare table with the members table's columns, in the same run on the same server.
"""

from __future__ import annotations

import csv
import io
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
from sqlalchemy import insert

from bench.common import ENROLLMENT_MIGRATIONS, RunEnv, log, tag
from bench.report import Figure
from enrollment import roster_repository
from enrollment.models import MESSAGING, ORGS
from enrollment.roster_files import read_roster
from enrollment.service import roster
from enrollment.service.context import Context
from enrollment.service.roster_worker import RosterImports
from enrollment.settings import EnrollmentSettings
from shared.auth import Principal, Role
from shared.clock import SystemClock
from shared.db import Database
from shared.messaging.outbox import Outbox
from shared.migrations import upgrade_to_head
from shared.orgs.directory import OrgDirectory

HEADER = [
    "org", "name", "employee_no", "email", "phone", "language", "joined_on", "skill_grade",
    "birth_date",
]  # fmt: skip
BARE_TABLE = """CREATE TABLE bench_members_copy (
    member_id varchar(36) PRIMARY KEY, home_org varchar(64) NOT NULL, name varchar(200) NOT NULL,
    email varchar(320), phone varchar(40), employee_no varchar(64), language varchar(8) NOT NULL,
    created_at timestamptz NOT NULL, joined_on date, skill_grade integer, birth_date date)"""


def sample(rows: int, orgs: tuple[str, str]) -> tuple[list[list[Any]], int]:
    """The roster's rows and how many of them are good (one in a hundred is bad)."""
    out: list[list[Any]] = []
    bad = 0
    for i in range(rows):
        org = orgs[i % 2]
        row: list[Any] = [
            org, f"工人{i}", f"E{i:06d}", f"w{i}@members.example", f"+86 138{i:08d}",
            "zh" if i % 4 else "en", f"2015-03-{1 + i % 28:02d}", 1 + i % 8, "1985-07-01",
        ]  # fmt: skip
        if i % 100 == 50:
            bad += 1
            kind = (i // 100) % 4
            if kind == 0:
                row[3] = "not-an-email"
            elif kind == 1:
                row[0] = "no-such-org"
            elif kind == 2:
                row[0], row[2] = out[i - 1][0], out[i - 1][2]
            else:
                row[1] = ""
        out.append(row)
    return out, rows - bad


def csv_body(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def copy_records(rows: list[list[Any]]) -> list[tuple[Any, ...]]:
    now = datetime.now(UTC)
    return [
        (
            str(uuid.uuid4()),
            r[0],
            r[1] or "-",
            r[3],
            r[4],
            r[2],
            r[5],
            now,
            date.fromisoformat(r[6]),
            int(r[7]),
            date.fromisoformat(r[8]),
        )
        for r in rows
    ]


async def copy_rate(url: str, records: list[tuple[Any, ...]]) -> float:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute(BARE_TABLE)
        started = time.perf_counter()
        await connection.copy_records_to_table("bench_members_copy", records=records)
        return len(records) / (time.perf_counter() - started)
    finally:
        await connection.close()


async def seeded_context(url: str, node: str) -> tuple[Context, Database, tuple[str, str]]:
    root, orgs = f"{node}-root", (f"{node}-rolling", f"{node}-casting")
    db = Database(url)
    now = datetime.now(UTC)
    rows = [(root, None, "enterprise")] + [(o, root, "grassroots") for o in orgs]
    async with db.transaction() as session:
        await session.execute(
            insert(ORGS),
            [
                {
                    "org_id": o,
                    "name": o.upper(),
                    "parent_id": p,
                    "level": level,
                    "hosted_by": node,
                    "updated_at": now,
                }
                for o, p, level in rows
            ],
        )
    settings = EnrollmentSettings(node_id=node, root_org=root, database_url=url)
    clock = SystemClock()
    ctx = Context(
        settings=settings,
        outbox=Outbox(MESSAGING, settings.source, clock),
        orgs=OrgDirectory(db, ORGS, node, root, clock),
        clock=clock,
    )
    return ctx, db, orgs


async def roster_import(env: RunEnv, rows: int) -> Figure:
    node = f"br{tag()}"
    url = await env.database("bench_roster")
    await upgrade_to_head(ENROLLMENT_MIGRATIONS, url)
    ctx, db, orgs = await seeded_context(url, node)
    members, good = sample(rows, orgs)
    body = csv_body(members)
    who = Principal("bench", ctx.settings.root_org, frozenset({Role.admin}))
    log(f"import: {rows} rows through the job worker …")
    try:
        started = time.perf_counter()
        async with db.reading() as session:
            scope = await roster.import_scope(session, ctx, who, ctx.settings.root_org)
        parsed = read_roster(body, "text/csv", org_given=False, max_rows=rows, default_org=None)
        async with db.transaction() as session:
            job = await roster.create_import(session, ctx, who, scope, parsed)
        queued = time.perf_counter()
        cpu = time.process_time()
        await RosterImports(db, ctx).run_once()
        cpu = time.process_time() - cpu
        finished = time.perf_counter()
        async with db.reading() as session:
            done = await roster_repository.get_job(session, job.job_id)
    finally:
        await db.dispose()
    if done is None or done.status != "done" or done.good != good:
        raise RuntimeError(f"the import did not end as expected: {done and done.status}")
    rate = rows / (finished - started)
    log(f"import: {rate:,.0f} rows/s; COPY of the same rows …")
    limit = await copy_rate(url, copy_records(members))
    log(f"import: COPY {limit:,.0f} rows/s")
    return Figure(
        "roster import (CSV → job worker → members + outbox), PostgreSQL",
        rate,
        "members/s",
        "rows/s asyncpg COPY into a bare table",
        limit,
        0.3,
        key="import",
        details={
            "rows": rows,
            "good": good,
            "read_and_store_seconds": round(queued - started, 3),
            "worker_seconds": round(finished - queued, 3),
            "worker_rows_per_s": round(rows / (finished - queued), 1),
            "worker_cpu_ms_per_row": round(cpu * 1000 / rows, 3),
            "chunk_rows": ctx.settings.roster_chunk_rows,
        },
    )
