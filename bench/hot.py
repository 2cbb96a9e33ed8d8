"""A hot programme: `requests` enrollment requests through two home nodes into one programme.

The three demo nodes run as OS processes on PostgreSQL (deploy.local.federation.launch: zj
owns the programme, hzsteel and hzbus are the enterprise home nodes), every service its own
process and database, e-mail to an SMTP sink in its own process. A cadre of zj-hz publishes one
programme at zj with quotas for both enterprises (capacity 40 % of the requests, half of it
for each: both quotas fill, the rest is waitlisted); once both home nodes hold its copy, half
of the requests' members are registered at each home node through its API (hzsteel-rolling,
hzbus-depot) and have reached its notifications service. Then every request is sent at once:
`POST /enrollments` to both home nodes' APIs together, `concurrency` persistent connections
each (bench/web.py's client, one cadre token per node issued beforehand).

Figures, each beside the raw aiokafka produce+consume rate of the same run (no goal is set):
  accepted/s        202s / the node's load time, p50/p99 as the client saw them, per home node
                    and both together (first POST to last answer)
  decisions/s       owner's seats.decided_at: count / (last - first), and count / (last
                    decision - first POST)
  outcomes at home  every enrollment at both home nodes past `requested`: count / (last
                    home enrollments.updated_at - first POST), and those seconds
CPU per request: utime+stime of every service process (and its workers), the broker, the SMTP
sink and PostgreSQL, from the first POST until every home node has every outcome.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import ROOT, raw, seed
from bench.common import RunEnv, cpu_seconds, log, percentile
from bench.flow import Databases, _ts, _wait, register_members
from bench.report import Figure
from bench.web import Load, post_all
from deploy.local.federation import (
    ENTERPRISE_NODE,
    ROOTS,
    SECOND_ENTERPRISE_NODE,
    SUPERIOR_NODE,
    Federation,
    launch,
)
from deploy.local.node import SERVICES
from deploy.local.ports import free_port

OWNER_ORG = "zj-hz"
# Home node -> (the grassroots org whose members ask, the enterprise root holding the quota).
HOMES = {
    ENTERPRISE_NODE: ("hzsteel-rolling", "hzsteel"),
    SECOND_ENTERPRISE_NODE: ("hzbus-depot", "hzbus"),
}
MEMBER_DOMAIN = "members.example"
LIMIT_NAME = "msg/s raw aiokafka produce+consume"
NO_GOAL = "—"


@dataclass
class HotResult:
    figures: list[Figure]
    notes: list[str] = field(default_factory=list)


class SinkProcess:
    """`python -m deploy.local.smtp run` in its own process: the e-mails of thousands of
    outcomes are not received on this process's GIL, beside the load's client."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self, within: float = 30) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / "smtp.log").open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    *("-m", "deploy.local.smtp", "run", "--port", str(self.port)),
                    *("--dir", str(self.folder / "mail")),
                ],
                cwd=ROOT,
                env=os.environ.copy(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + within
        while "SMTP sink on" not in (self.folder / "smtp.log").read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("hot: the SMTP sink did not start (see smtp.log)")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def hot(env: RunEnv, requests: int, raw_count: int, concurrency: int = 32) -> HotResult:
    limits = await raw.limits(env, raw_count)
    if requests < 2:
        raise ValueError("hot: at least two requests (one per home node)")
    async with three_nodes(env, "hot", "h") as (federation, sink):
        databases = Databases()
        try:
            return await _run(env, federation, databases, sink, requests, concurrency, limits)
        finally:
            await databases.close()


@asynccontextmanager
async def three_nodes(
    env: RunEnv, name: str, db_prefix: str
) -> AsyncIterator[tuple[Federation, SinkProcess]]:
    """The three demo nodes as OS processes, every service on its own new PostgreSQL database,
    e-mail to an SMTP sink in its own process; all stopped on exit."""
    urls = {n: {s: await env.database(f"{db_prefix}_{n}_{s}") for s in SERVICES} for n in ROOTS}
    work = env.work / name
    sink = SinkProcess(work / "smtp")
    stack = ExitStack()
    try:
        await asyncio.to_thread(sink.start)
        log(f"{name}: starting three nodes ({3 * len(SERVICES)} service processes) …")
        federation: Federation = await asyncio.to_thread(
            stack.enter_context,
            launch(
                env.kafka,
                work,
                smtp_port=sink.port,
                partitions=6,
                database_urls=urls,
                extra_env=seed.UNLIMITED,
                progress=log,
            ),
        )
        yield federation, sink
    finally:
        log(f"{name}: stopping the nodes …")
        await asyncio.to_thread(stack.close)
        await asyncio.to_thread(sink.stop)


def _split(requests: int) -> dict[str, int]:
    first = requests // 2
    return {ENTERPRISE_NODE: first, SECOND_ENTERPRISE_NODE: requests - first}


async def _run(
    env: RunEnv,
    federation: Federation,
    db: Databases,
    sink: SinkProcess,
    count: int,
    concurrency: int,
    limits: dict[str, Any],
) -> HotResult:
    def url(node: str, service: str) -> str:
        return federation.nodes[node].services[service].env["BIGSCHOOL_DATABASE_URL"]

    per_node = _split(count)
    quota = max(1, count // 5)
    capacity = 2 * quota
    programme = await asyncio.to_thread(
        federation.publish_programme,
        SUPERIOR_NODE,
        OWNER_ORG,
        capacity,
        title="A hot programme",
        quotas={root: quota for _, root in HOMES.values()},
    )
    programme_id = programme["programme_id"]
    log(f"hot: programme of {capacity} seats (quotas {quota} each); registering members …")
    started = time.perf_counter()
    registered = await asyncio.gather(
        *(
            register_members(federation, n, concurrency, node=node, org=HOMES[node][0])
            for node, n in per_node.items()
        )
    )
    members = dict(zip(per_node, registered, strict=True))
    log(
        f"hot: {count} members registered in {time.perf_counter() - started:,.1f} s; "
        "waiting for the programme and the recipients at both home nodes …"
    )

    async def ready() -> bool:
        for node, node_members in members.items():
            known = await db.rows(
                url(node, "enrollment"),
                "SELECT 1 FROM programmes WHERE programme_id = :p",
                p=programme_id,
            )
            recipients = await db.rows(
                url(node, "notifications"),
                "SELECT count(*) FROM recipients WHERE member_id IN :ids",
                ids=[m["member_id"] for m in node_members],
            )
            if not known or recipients[0][0] != len(node_members):
                return False
        return True

    await _wait("programme and recipients known at both home nodes", max(120, count / 20), ready)

    pids: dict[str, int | None] = {
        f"{service}@{node_id}": (proc.proc.pid if proc.proc is not None else None)
        for node_id, node in federation.nodes.items()
        for service, proc in node.services.items()
    }
    pids["kafka broker"] = env.kafka_pid
    pids["smtp sink"] = sink.pid
    pids["postgres"] = env.postgres_pid
    cpu_before = cpu_seconds(pids)
    own_before = time.process_time()

    tokens = {
        node: federation.tokens.issue(node=node, org=org, roles="cadre", sub=f"cadre@{org}")
        for node, (org, _) in HOMES.items()
    }
    bodies = {
        node: [{"programme_id": programme_id, "member_id": m["member_id"]} for m in ms]
        for node, ms in members.items()
    }
    wall_minus_perf = time.time() - time.perf_counter()
    log(f"hot: {count} POST /enrollments to two home nodes, {concurrency} in flight each …")
    loads_list = await asyncio.gather(
        *(
            post_all(
                federation.nodes[node].url("enrollment"),
                tokens[node],
                "/enrollments",
                bodies[node],
                concurrency,
            )
            for node in per_node
        )
    )
    loads: dict[str, Load] = dict(zip(per_node, loads_list, strict=True))
    for node, load in loads.items():
        if load.accepted != per_node[node]:
            raise RuntimeError(f"hot: POST /enrollments at {node}: {load.statuses()}")
    log(
        "hot: accepted "
        + ", ".join(f"{node} {load.rate:,.1f}/s" for node, load in loads.items())
        + "; waiting for every decision …"
    )

    owner = url(SUPERIOR_NODE, "enrollment")
    within = max(300.0, count / 2)

    async def all_decided() -> bool:
        rows = await db.rows(
            owner, "SELECT count(*) FROM seats WHERE programme_id = :p", p=programme_id
        )
        return bool(rows[0][0] >= count)

    await _wait("every request decided at the owner", within, all_decided)

    async def all_home_updated() -> bool:
        for node in per_node:
            rows = await db.rows(
                url(node, "enrollment"),
                "SELECT count(*) FROM enrollments "
                "WHERE programme_id = :p AND status <> 'requested'",
                p=programme_id,
            )
            if rows[0][0] < per_node[node]:
                return False
        return True

    await _wait("every outcome at both home nodes", within, all_home_updated)
    cpu_after = cpu_seconds(pids)
    own_cpu = time.process_time() - own_before

    # -- what the services stored -------------------------------------------------------------
    seats = {
        r.enrollment_id: r
        for r in await db.rows(
            owner,
            "SELECT enrollment_id, home_node, status, quota_org, decided_at FROM seats "
            "WHERE programme_id = :p",
            p=programme_id,
        )
    }
    home: dict[str, Any] = {}
    for node in per_node:
        for r in await db.rows(
            url(node, "enrollment"),
            "SELECT enrollment_id, status, requested_at, updated_at FROM enrollments "
            "WHERE programme_id = :p",
            p=programme_id,
        ):
            home[r.enrollment_id] = r

    decided = sorted(t for s in seats.values() if (t := _ts(s.decided_at)) is not None)
    home_updated = [t for r in home.values() if (t := _ts(r.updated_at)) is not None]
    starts = [start + wall_minus_perf for load in loads.values() for start, _, _ in load.results]
    ends = [end + wall_minus_perf for load in loads.values() for _, end, _ in load.results]
    first_post, last_answer = min(starts), max(ends)
    decision_span = decided[-1] - decided[0]
    decision_rate = len(decided) / decision_span if decision_span > 0 else float("nan")
    decided_since_first = decided[-1] - first_post
    outcomes_seconds = max(home_updated) - first_post

    accepted_to_decided = [
        d - a
        for e, r in home.items()
        if (a := _ts(r.requested_at)) is not None
        and e in seats
        and (d := _ts(seats[e].decided_at)) is not None
    ]
    decided_to_home = [
        u - d
        for e, r in home.items()
        if r.status != "requested"
        and (u := _ts(r.updated_at)) is not None
        and e in seats
        and (d := _ts(seats[e].decided_at)) is not None
    ]

    # -- CPU ----------------------------------------------------------------------------------
    spent = {
        name: cpu_after[name] - cpu_before[name]
        for name in pids
        if name in cpu_before and name in cpu_after
    }
    per_ms = {name: round(1000 * s / count, 2) for name, s in spent.items()}
    per_ms["bench process (client)"] = round(1000 * own_cpu / count, 2)
    services_ms = sum(v for k, v in per_ms.items() if "@" in k)
    all_ms = sum(per_ms.values())

    statuses: dict[str, int] = {}
    confirmed_by_quota: dict[str, int] = {}
    for s in seats.values():
        statuses[s.status] = statuses.get(s.status, 0) + 1
        if s.status == "confirmed":
            key = str(s.quota_org)
            confirmed_by_quota[key] = confirmed_by_quota.get(key, 0) + 1
    limit = float(limits["produce_consume"])
    common = {
        "requests": count,
        "per_home_node": per_node,
        "concurrency_per_node": concurrency,
        "capacity": capacity,
        "quotas": {root: quota for _, root in HOMES.values()},
    }

    figures: list[Figure] = []
    for node, load in loads.items():
        figures.append(
            Figure(
                f"hot programme: POST /enrollments accepted at {node} (home API, one process)",
                load.rate,
                "accepted/s",
                LIMIT_NAME,
                limit,
                None,
                key=f"hot_accepted_{node}",
                goal_text=NO_GOAL,
                details={
                    "p50_ms": round(load.latency_ms(50), 1),
                    "p99_ms": round(load.latency_ms(99), 1),
                    "statuses": load.statuses(),
                    "seconds": round(load.seconds, 3),
                    "client_cpu_seconds": round(load.client_cpu_seconds, 2),
                    **common,
                },
            )
        )
    all_latencies = [end - start for load in loads.values() for start, end, _ in load.results]
    accepted = sum(load.accepted for load in loads.values())
    figures.append(
        Figure(
            "hot programme: POST /enrollments accepted, both home nodes together",
            accepted / (last_answer - first_post),
            "accepted/s",
            LIMIT_NAME,
            limit,
            None,
            key="hot_accepted",
            goal_text=NO_GOAL,
            details={
                "p50_ms": round(1000 * percentile(all_latencies, 50), 1),
                "p99_ms": round(1000 * percentile(all_latencies, 99), 1),
                "seconds": round(last_answer - first_post, 3),
                **common,
            },
        )
    )
    figures.append(
        Figure(
            f"hot programme: owner decisions, {count:,} requests from two home nodes "
            "(first to last decision)",
            decision_rate,
            "decisions/s",
            LIMIT_NAME,
            limit,
            None,
            key="hot_decisions",
            goal_text=NO_GOAL,
            details={
                "decisions": len(decided),
                "seconds": round(decision_span, 3),
                "statuses": statuses,
                "confirmed_by_quota": confirmed_by_quota,
                "accepted_to_decided_p50_ms": round(1000 * percentile(accepted_to_decided, 50), 1),
                "accepted_to_decided_p99_ms": round(1000 * percentile(accepted_to_decided, 99), 1),
                "cpu_ms_per_request_by_process": per_ms,
                "cpu_ms_per_request_services": round(services_ms, 2),
                "cpu_ms_per_request_all": round(all_ms, 2),
                **common,
            },
        )
    )
    figures.append(
        Figure(
            "hot programme: owner decisions, first request to last decision",
            len(decided) / decided_since_first,
            "decisions/s",
            LIMIT_NAME,
            limit,
            None,
            key="hot_decisions_from_first_request",
            goal_text=NO_GOAL,
            details={"seconds": round(decided_since_first, 3), **common},
        )
    )
    figures.append(
        Figure(
            "hot programme: first request to every outcome at both home nodes",
            len(home_updated) / outcomes_seconds,
            "outcomes/s",
            LIMIT_NAME,
            limit,
            None,
            key="hot_outcomes_at_home",
            goal_text=NO_GOAL,
            details={
                "seconds": round(outcomes_seconds, 3),
                "after_last_decision_seconds": round(max(home_updated) - decided[-1], 3),
                "decided_to_home_p50_ms": round(1000 * percentile(decided_to_home, 50), 1),
                "decided_to_home_p99_ms": round(1000 * percentile(decided_to_home, 99), 1),
                **common,
            },
        )
    )

    heaviest = sorted(per_ms.items(), key=lambda kv: -kv[1])[:4]
    split = ", ".join(f"{n} {c:,}" for n, c in per_node.items())
    notes = [
        f"hot programme: {count:,} requests ({split}) for {capacity:,} seats: {statuses}; "
        "every outcome at both home nodes "
        f"{outcomes_seconds:,.1f} s after the first request "
        f"({max(home_updated) - decided[-1]:,.1f} s after the last decision); "
        f"accepted → decided p50 {1000 * percentile(accepted_to_decided, 50):,.0f} ms, "
        f"p99 {1000 * percentile(accepted_to_decided, 99):,.0f} ms; "
        f"decided → home p50 {1000 * percentile(decided_to_home, 50):,.0f} ms, "
        f"p99 {1000 * percentile(decided_to_home, 99):,.0f} ms.",
        f"hot programme: CPU per request {services_ms:,.1f} ms in the nine service processes, "
        f"{all_ms:,.1f} ms with broker, PostgreSQL, SMTP sink and client; most in "
        + ", ".join(f"{name} {ms:.1f} ms" for name, ms in heaviest)
        + ".",
    ]
    log(
        f"hot: {decision_rate:,.1f} decisions/s; every outcome at home after "
        f"{outcomes_seconds:,.1f} s"
    )
    return HotResult(figures, notes)
