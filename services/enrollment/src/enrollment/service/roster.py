"""Bulk roster import at the home node: a job per uploaded file, its rows imported chunk by
chunk — each chunk one transaction holding its members, their events, its rows' errors and
the job's progress, so that a crash leaves a whole chunk or none and a resumed job goes on
where `done` says.

A row's key is (grassroots org, employee number). A new key registers a member as
`POST /members` does (`check_new_member`, `new_member`, `publish_member`: the same rules and
the same `member.registered` event); a known key updates that member from the columns the
file has (an empty cell clears an optional field; a column the file lacks leaves it) and
publishes the member's new full record only when something it carries changed — so the same
file imported twice changes nothing the second time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import roster_repository as repo
from enrollment.domain import roster as rules
from enrollment.domain.members import MemberStatus
from enrollment.errors import Forbidden, NotFound, Problem
from enrollment.models import Member, RosterImport
from enrollment.roster_files import ParsedRoster
from enrollment.schemas import MemberIn
from enrollment.service.context import Context
from enrollment.service.members import check_new_member, new_member, publish_member
from shared.auth import Principal, Role
from shared.contracts.events import OrgLevel
from shared.db import Database
from shared.orgs.authority import Org
from shared.orgs.directory import UnknownOrg

UNKNOWN_ORG = "unknown grassroots org"
NOT_GRASSROOTS = "not a grassroots org"
EMPLOYEE_NO_REQUIRED = "required (the employee number is the import's key)"
# What a member's record in `member.registered` carries (contact data and language).
PUBLISHED = ("name", "email", "phone", "language")


# -- the upload -------------------------------------------------------------------------------


async def import_scope(session: AsyncSession, ctx: Context, who: Principal, org_id: str) -> Org:
    """The org an import is for: a grassroots org's cadre imports that org's members; an admin
    of this node's root any org hosted here (each row then names its grassroots org)."""
    org = await ctx.orgs.get(org_id, session)
    if org is None or org.hosted_by != ctx.node_id:
        raise NotFound(f"org {org_id} is not hosted here", field="org")
    root_admin = who.has(Role.admin) and who.org == ctx.settings.root_org
    own = who.org == org_id and who.has(Role.cadre, Role.admin)
    if not (root_admin or (own and org.level == OrgLevel.grassroots)):
        raise Forbidden(
            "a grassroots org's cadres import its members; this node's admins any org's",
            field="org",
        )
    return org


def default_org(scope: Org) -> str | None:
    """Rows without an org belong to the import's org when it is a grassroots org."""
    return scope.org_id if scope.level == OrgLevel.grassroots else None


async def create_import(
    session: AsyncSession, ctx: Context, who: Principal, scope: Org, roster: ParsedRoster
) -> RosterImport:
    job = RosterImport(
        job_id=str(uuid.uuid4()),
        org_scope=scope.org_id,
        created_by=who.sub[:200],
        created_by_org=who.org,
        file_format=roster.format,
        encoding=roster.encoding,
        columns=roster.header.titles,
        ignored_columns=roster.header.ignored[:50],
        status="queued",
        total=len(roster.rows),
        done=0,
        good=0,
        error_rows=0,
        created=0,
        updated=0,
        failures=0,
        created_at=ctx.clock.now(),
    )
    size = ctx.settings.roster_chunk_rows
    rows = [row.as_json() for row in roster.rows]
    await repo.add_job(session, job, [rows[i : i + size] for i in range(0, len(rows), size)])
    return job


# -- the job, chunk by chunk ------------------------------------------------------------------


class Step(StrEnum):
    imported = "imported"  # a chunk is in; more to do
    finished = "finished"  # the job is done
    lost = "lost"  # the job is not this worker's (any more): leave it


async def import_next_chunk(db: Database, ctx: Context, job_id: str, owner: str) -> Step:
    """One chunk of the job in one transaction, under the job's row lock: its members and
    events, its rows' errors, the chunk's deletion and the job's progress commit together."""
    async with db.transaction() as session:
        job = await repo.get_job(session, job_id, lock=True)
        if job is None or job.status != "running" or job.lease_owner != owner:
            return Step.lost
        now = ctx.clock.now()
        chunk = await repo.next_chunk(session, job_id)
        if chunk is not None:
            outcome = await import_rows(session, ctx, job, chunk.rows)
            await repo.add_errors(session, job_id, outcome.errors)
            await repo.delete_chunks(session, job_id, chunk.chunk_no)
            job.done += len(chunk.rows)
            job.good += outcome.good
            job.error_rows += len(chunk.rows) - outcome.good
            job.created += outcome.created
            job.updated += outcome.updated
            job.lease_expires_at = now + timedelta(seconds=ctx.settings.roster_lease_seconds)
        if chunk is None or job.done >= job.total:
            job.status, job.finished_at = "done", now
            job.lease_owner = job.lease_expires_at = None
            return Step.finished
        return Step.imported


@dataclass
class Outcome:
    good: int = 0
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # line, column, reason


async def import_rows(
    session: AsyncSession, ctx: Context, job: RosterImport, rows: Sequence[dict[str, Any]]
) -> Outcome:
    scope = await ctx.orgs.get(job.org_scope, session)
    if scope is None:
        raise UnknownOrg(job.org_scope)
    outcome = Outcome()
    orgs = _OrgCheck(session, ctx, scope.org_id)
    ready: list[MemberIn] = []
    for row in rows:
        line = int(row["line"])
        problems = [tuple(e) for e in row.get("errors", [])]
        data = None
        if not problems:
            data, problems = await _validated(session, ctx, orgs, row["cells"], default_org(scope))
        if data is None:
            seen: set[str] = set()
            for column, reason in problems:
                if column not in seen:  # one reason per line and column
                    seen.add(column)
                    outcome.errors.append((line, str(column), str(reason)[:200]))
            continue
        ready.append(data)
    keys = {(data.home_org, data.employee_no or "") for data in ready}
    known = await repo.members_by_key(session, keys)
    present = set(job.columns)
    new: list[Member] = []
    for data in ready:
        member = known.get((data.home_org, data.employee_no or ""))
        if member is None:
            new.append(await register(session, ctx, data))
        elif await upsert_member(session, ctx, member, data, present):
            outcome.updated += 1
    await repo.add_members(session, new)
    outcome.created, outcome.good = len(new), len(ready)
    return outcome


async def _validated(
    session: AsyncSession,
    ctx: Context,
    orgs: _OrgCheck,
    cells: dict[str, str],
    default: str | None,
) -> tuple[MemberIn | None, list[tuple[str, str]]]:
    """The row as MemberIn — the rules of `POST /members` — or every reason it is not."""
    problems: list[tuple[str, str]] = []
    if not cells.get("employee_no"):
        problems.append(("employee_no", EMPLOYEE_NO_REQUIRED))
    try:
        data = MemberIn.model_validate(rules.member_fields(cells, default))
    except ValidationError as exc:
        problems.extend(rules.reason_for(e) for e in exc.errors(include_input=False))
        return None, problems
    if (problem := await orgs.problem(data.home_org)) is not None:
        problems.append(("org", problem))
    if problems:
        return None, problems
    try:
        await check_new_member(session, ctx, data)  # dates not in the future, and the org
    except Problem as exc:
        return None, [(rules.COLUMN_OF.get(exc.field or "", exc.field or "row"), exc.detail)]
    return data, []


class _OrgCheck:
    """Whether a row's org may take members in this import (answers cached per chunk)."""

    def __init__(self, session: AsyncSession, ctx: Context, scope: str) -> None:
        self.session, self.ctx, self.scope = session, ctx, scope
        self._answers: dict[str, str | None] = {}

    async def problem(self, org_id: str) -> str | None:
        if org_id not in self._answers:
            self._answers[org_id] = await self._problem(org_id)
        return self._answers[org_id]

    async def _problem(self, org_id: str) -> str | None:
        org = await self.ctx.orgs.get(org_id, self.session)
        if org is None or org.hosted_by != self.ctx.node_id:
            return UNKNOWN_ORG
        if org.level != OrgLevel.grassroots:
            return NOT_GRASSROOTS
        if org_id == self.scope:
            return None
        try:
            above = await self.ctx.orgs.ancestors(org_id, self.session)
        except UnknownOrg:
            return UNKNOWN_ORG
        return None if self.scope in above else f"not under the import's org {self.scope}"


async def register(session: AsyncSession, ctx: Context, data: MemberIn) -> Member:
    """A new member, as `POST /members` makes one, and its event (the checks were made by
    the caller); the caller writes the chunk's new members at once (`add_members`)."""
    member = new_member(ctx, data, member_id=str(uuid.uuid4()), status=MemberStatus.active)
    await publish_member(session, ctx, member)
    return member


async def upsert_member(
    session: AsyncSession, ctx: Context, member: Member, data: MemberIn, columns: set[str]
) -> bool:
    """Bring a known member to the row: only the columns the file has. Publishes the new
    full record when something it carries changed; returns whether anything changed."""
    changed: set[str] = set()
    for name in rules.UPDATABLE:
        if name not in columns:
            continue
        value = getattr(data, name)
        if name == "email" and value is not None:
            value = str(value)
        if getattr(member, name) != value:
            setattr(member, name, value)
            changed.add(name)
    if changed & set(PUBLISHED):
        await publish_member(session, ctx, member)
    return bool(changed)
