"""A round of `count` nominations through three levels: filed at the grassroots org (node
hzsteel), admitted by the scheme owner (node zj), endorsed by the enterprise (node hzsteel),
cleared by a veto department and scored by two reviewers at the owner (node zj).

The three demo nodes run as OS processes on PostgreSQL (deploy.local.federation.launch, every
service its own process and database; e-mail to an SMTP sink in its own process, as in
bench/hot.py). `count` members of hzsteel-rolling are registered through hzsteel's enrollment
API and awaited in hzsteel's awards `members` table (the replica fed from the node-local
members topic). A cadre of zj-hz creates a model-worker scheme at zj (no criteria, no quotas,
the enterprise endorses, one veto department, reviewers rev-a of zj-hz and rev-b of zj, two
reviews needed) and opens a round; once hzsteel's awards shows both to a hzsteel-rolling cadre,
the round runs, each stage driven through the public API by `concurrency` persistent
connections (bench/web.py), the next stage started once the previous one has finished:

  1. filed → admitted   POST /nominations at hzsteel (the hzsteel-rolling cadre); the owner's
                        consumer admits each; done when hzsteel's replica shows all `endorsing`
  2. endorsed → owner   POST /nominations/{id}/endorse at hzsteel (a hzsteel cadre); done when
                        zj's replica shows all `veto_check`
  3. checks + reviews   POST /nominations/{id}/veto-checks at zj (the officer), then
                        POST /nominations/{id}/reviews by rev-a, then by rev-b; done when all
                        are `in_review` with two reviews at zj

Times come from what the services store: each step's `at` in `nomination_steps` (the acting
node's clock, copied to every replica with the step) and, for a step's arrival at the other
node, `processed_events.processed_at` of its `ce_id` there (the `nominations` consumer's
record, stamped when its batch transaction began). Figures (bench/nomination_figures.py): the
whole round's seconds (first filing → last nomination in review at the owner; it includes the
moments the driver takes to see a stage finished and start the next), nominations/s per stage
with p50/p99 per nomination, per-hop latencies, and CPU per nomination of the awards processes
(every other process beside them) from the first filing until the home node's replica has
every step — also net of each process's idle use (polls, timers), sampled for 5 s before.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import RunEnv, cpu_seconds, log
from bench.flow import Databases, register_members
from bench.hot import three_nodes
from bench.nomination_figures import Cpu, Loads, figures, read_timeline
from bench.report import Figure, Hop
from bench.web import Load, Response, post_all
from deploy.local.federation import ENTERPRISE_NODE, SUPERIOR_NODE, Federation

OWNER_ORG = "zj-hz"
HOME_ORG = "hzsteel-rolling"
ENTERPRISE = "hzsteel"  # the level that endorses, hosted at the home node
DEPARTMENT = "discipline"
OFFICER = "officer"
REVIEWERS = (("rev-a", OWNER_ORG), ("rev-b", "zj"))
# filed, admitted, endorsed, veto cleared, two reviews: the home replica has caught up.
FINAL_STEP = 6
IDLE_SECONDS = 5.0  # how long each process's idle CPU use is sampled before the round


@dataclass
class NominationsResult:
    figures: list[Figure]
    hops: list[Hop]
    notes: list[str] = field(default_factory=list)


@dataclass
class Run:
    federation: Federation
    db: Databases
    count: int
    concurrency: int
    within: float
    scheme_id: str = ""
    round_id: str = ""

    def url(self, node: str, service: str = "awards") -> str:
        return self.federation.nodes[node].services[service].env["BIGSCHOOL_DATABASE_URL"]

    def token(self, node: str, org: str, role: str, sub: str) -> str:
        return self.federation.tokens.issue(node=node, org=org, roles=role, sub=sub)

    async def scalar(self, node: str, sql: str, **params: Any) -> int:
        rows = await self.db.rows(self.url(node), sql, **params)
        return int(rows[0][0])

    async def until(self, what: str, check: Callable[[], Awaitable[bool]]) -> None:
        """Poll `check` until it holds; on timeout, say where the round stands and what the
        awards services logged."""
        deadline = time.monotonic() + self.within
        while not await check():
            if time.monotonic() > deadline:
                raise TimeoutError(f"nominations: {what} not reached: {await self.diagnosis()}")
            await asyncio.sleep(0.1)

    async def diagnosis(self) -> str:
        out = []
        for node in (ENTERPRISE_NODE, SUPERIOR_NODE):
            rows = await self.db.rows(
                self.url(node), "SELECT status, count(*) AS n FROM nominations GROUP BY status"
            )
            out.append(f"{node}: { ({r.status: r.n for r in rows}) }")
        return "; ".join(out + log_errors(self.federation))


def log_errors(federation: Federation, limit: int = 10) -> list[str]:
    """The last error lines of each node's awards log (JSON lines; a traceback's first)."""
    marks = ('"level": "error"', '"level": "critical"', "Traceback")
    out = []
    for node_id, node in federation.nodes.items():
        text = node.services["awards"].log_tail(1_000_000).splitlines()
        bad = [line for line in text if any(mark in line for mark in marks)]
        out += [f"awards@{node_id} log: {line[:400]}" for line in bad[-limit:]]
    return out


async def nominations(env: RunEnv, count: int, concurrency: int = 16) -> NominationsResult:
    async with three_nodes(env, "nominations", "n") as (federation, _):
        run = Run(federation, Databases(), count, concurrency, within=max(300.0, count / 2))
        try:
            return await _run(env, run)
        finally:
            await run.db.close()


async def _members(run: Run) -> list[str]:
    log(f"nominations: registering {run.count} members of {HOME_ORG} …")
    members = await register_members(run.federation, run.count, run.concurrency)
    ids = [m["member_id"] for m in members]

    async def replicated() -> bool:
        sql = "SELECT count(*) FROM members WHERE member_id IN :ids"
        return await run.scalar(ENTERPRISE_NODE, sql, ids=ids) == len(ids)

    await run.until("every member in hzsteel's awards members table", replicated)
    return ids


def _scheme_body() -> dict[str, Any]:
    return {
        "kind": "model_worker",
        "title": "Hangzhou model worker (bench)",
        "endorse_levels": ["enterprise"],
        "veto_departments": [{"department": DEPARTMENT, "officer": OFFICER}],
        "reviewers": [{"sub": sub, "org_id": org} for sub, org in REVIEWERS],
        "min_reviews": 2,
    }


def _scheme_and_round(federation: Federation, within: float) -> tuple[str, str]:
    """Created at zj by a zj-hz cadre; returned once hzsteel's awards shows both."""
    owner = federation.client(
        SUPERIOR_NODE, "awards", org=OWNER_ORG, roles="cadre", sub=f"cadre@{OWNER_ORG}"
    )
    home = federation.client(
        ENTERPRISE_NODE, "awards", org=HOME_ORG, roles="cadre", sub=f"cadre@{HOME_ORG}"
    )
    try:
        scheme_id = owner.post("/schemes", _scheme_body())["scheme_id"]
        now = datetime.now(UTC)
        deadline = (now + timedelta(days=30)).isoformat()
        body = {"name": f"{now.year}", "year": now.year, "deadline": deadline}
        round_id = owner.post(f"/schemes/{scheme_id}/rounds", body)["round_id"]
        home.wait_for(f"/schemes/{scheme_id}", lambda _: True, timeout=within)
        home.wait_for(f"/rounds/{round_id}", lambda r: r["status"] == "open", timeout=within)
        return scheme_id, round_id
    finally:
        owner.close()
        home.close()


async def _post(
    run: Run,
    node: str,
    token: str,
    paths: str | Sequence[str],
    bodies: Sequence[dict[str, Any]],
    expect: int,
) -> tuple[Load, list[Response | None]]:
    """POST every body; every answer must be `expect` (else the first other one is shown)."""
    answers: list[Response | None] = [None] * len(bodies)

    def keep(i: int, response: Response | None) -> None:
        answers[i] = response

    load = await post_all(
        run.federation.nodes[node].url("awards"), token, paths, bodies, run.concurrency, keep
    )
    wrong = [a for a in answers if a is None or a.status != expect]
    if wrong:
        first = wrong[0]
        detail = f"{first.status} {first.body[:300]!r}" if first is not None else "network error"
        path = paths if isinstance(paths, str) else paths[0]
        raise RuntimeError(f"POST {path}: {load.statuses()}; first: {detail}")
    return load, answers


def _each(ids: Sequence[str], action: str) -> list[str]:
    return [f"/nominations/{i}/{action}" for i in ids]


async def _count_status(run: Run, node: str, status: str) -> int:
    sql = "SELECT count(*) FROM nominations WHERE round_id = :r AND status = :s"
    return await run.scalar(node, sql, r=run.round_id, s=status)


async def _file(run: Run, member_ids: Sequence[str]) -> tuple[Load, list[str]]:
    token = run.token(ENTERPRISE_NODE, HOME_ORG, "cadre", f"cadre@{HOME_ORG}")
    bodies = [
        {
            "scheme_id": run.scheme_id,
            "round_id": run.round_id,
            "member_ids": [m],
            "achievements": "Cut the mill's scrap rate by a third.\nTrained six apprentices.",
        }
        for m in member_ids
    ]
    load, answers = await _post(run, ENTERPRISE_NODE, token, "/nominations", bodies, 202)
    ids = [a.json()["nomination_id"] for a in answers if a is not None]

    async def admitted() -> bool:
        refused = await _count_status(run, ENTERPRISE_NODE, "refused")
        if refused:
            raise RuntimeError(f"{refused} nominations refused: {await run.diagnosis()}")
        return await _count_status(run, ENTERPRISE_NODE, "endorsing") == run.count

    await run.until("every nomination admitted (endorsing at hzsteel)", admitted)
    return load, ids


async def _endorse(run: Run, ids: Sequence[str]) -> Load:
    token = run.token(ENTERPRISE_NODE, ENTERPRISE, "cadre", f"cadre@{ENTERPRISE}")
    bodies = [{"comment": "Endorsed by the enterprise union."}] * len(ids)
    load, _ = await _post(run, ENTERPRISE_NODE, token, _each(ids, "endorse"), bodies, 200)

    async def arrived() -> bool:
        return await _count_status(run, SUPERIOR_NODE, "veto_check") == run.count

    await run.until("every endorsement at the owner (veto_check at zj)", arrived)
    return load


async def _check_and_review(run: Run, ids: Sequence[str]) -> list[Load]:
    """The officer clears every nomination, then each reviewer scores every one."""
    officer = run.token(SUPERIOR_NODE, OWNER_ORG, "reviewer", OFFICER)
    check = {"department": DEPARTMENT, "vetoed": False}
    cleared, _ = await _post(
        run, SUPERIOR_NODE, officer, _each(ids, "veto-checks"), [check] * len(ids), 200
    )
    loads = [cleared]
    for sub, org in REVIEWERS:
        token = run.token(SUPERIOR_NODE, org, "reviewer", sub)
        bodies = [{"score": 70 + i % 30, "comment": "A solid record."} for i in range(len(ids))]
        scored, _ = await _post(run, SUPERIOR_NODE, token, _each(ids, "reviews"), bodies, 200)
        loads.append(scored)

    async def reviewed() -> bool:
        sql = (
            "SELECT count(*) FROM nominations n WHERE n.round_id = :r AND n.status = 'in_review' "
            "AND (SELECT count(*) FROM reviews v WHERE v.nomination_id = n.nomination_id) >= 2"
        )
        return await run.scalar(SUPERIOR_NODE, sql, r=run.round_id) == run.count

    await run.until("every nomination in review with two reviews at zj", reviewed)
    return loads


async def _home_caught_up(run: Run) -> None:
    sql = "SELECT count(*) FROM nominations WHERE round_id = :r AND step >= :s"

    async def done() -> bool:
        return await run.scalar(ENTERPRISE_NODE, sql, r=run.round_id, s=FINAL_STEP) == run.count

    await run.until("every step in hzsteel's replica", done)


async def _idle_cpu(pids: dict[str, int | None]) -> dict[str, float]:
    """CPU seconds per second each process spends with no work (polls, timers): what the
    round's window would cost anyway."""
    before = cpu_seconds(pids)
    await asyncio.sleep(IDLE_SECONDS)
    after = cpu_seconds(pids)
    return {name: (after[name] - before[name]) / IDLE_SECONDS for name in before if name in after}


async def _run(env: RunEnv, run: Run) -> NominationsResult:
    member_ids = await _members(run)
    log("nominations: a scheme and a round at zj, awaited at hzsteel …")
    run.scheme_id, run.round_id = await asyncio.to_thread(
        _scheme_and_round, run.federation, run.within
    )
    pids: dict[str, int | None] = {
        f"{service}@{node_id}": (proc.proc.pid if proc.proc is not None else None)
        for node_id, node in run.federation.nodes.items()
        for service, proc in node.services.items()
    }
    pids |= {"kafka broker": env.kafka_pid, "postgres": env.postgres_pid}
    idle = await _idle_cpu(pids)
    cpu_before, begun = cpu_seconds(pids), time.perf_counter()
    load_before = os.getloadavg()[0]
    wall = time.time() - time.perf_counter()
    log(f"nominations: filing {run.count} nominations at hzsteel …")
    filing, ids = await _file(run, member_ids)
    log("nominations: endorsing them at hzsteel …")
    endorsing = await _endorse(run, ids)
    log("nominations: veto checks and two reviews each at zj …")
    assessing = await _check_and_review(run, ids)
    await _home_caught_up(run)
    cpu_after = cpu_seconds(pids)
    spent = {name: cpu_after[name] - cpu_before[name] for name in cpu_before if name in cpu_after}
    cpu = Cpu(spent, idle, time.perf_counter() - begun)
    load = f"load average {load_before:.1f} before the round, {os.getloadavg()[0]:.1f} after"
    timeline = await read_timeline(
        run.db, run.url(ENTERPRISE_NODE), run.url(SUPERIOR_NODE), run.round_id, ids
    )
    loads = Loads(filing, endorsing, assessing, wall)
    out, hops, notes = figures(run.count, run.concurrency, timeline, loads, cpu)
    log(notes[0])
    notes.append(f"nominations: {load} ({os.cpu_count()} CPUs).")
    notes += [f"nominations: {line}" for line in log_errors(run.federation)]
    return NominationsResult(out, hops, notes)
