"""The end-to-end flow: the two demo nodes as OS processes (deploy.local.federation.launch,
each service its own process and database: PostgreSQL, or SQLite files), `enrollments`
members of the enterprise node asking — through one cadre's token and one connection pool —
for seats in one programme of the superior node, until every member has been decided at the
owner, learnt the outcome at home and received the e-mail at the SMTP sink.

Rate = enrollments / (last of those moments - first POST). Limit: raw aiokafka
produce+consume. CPU per enrollment: utime+stime of every service process (and its children)
and of the broker over the timed window, from /proc, divided by the enrollments.

Hop timestamps come from what the services store (nothing is added for the bench):
  accepted          enrollments.requested_at             home enrollment DB
  decided           seats.decided_at                     owner enrollment DB
  home updated      processed_events.processed_at of the outcome's ce_id (the catalogue
                    consumer's record; enrollments.decided_at is the owner's time, copied)
  notice planned    deliveries.created_at (e-mail)       home notifications DB
  e-mail sent       deliveries.sent_at                   home notifications DB
  e-mailed          arrival at the SMTP sink             this process
"""

from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, bindparam, text

from bench import raw, seed
from bench.common import RunEnv, cpu_seconds, log, percentile
from bench.report import Figure, Hop
from bench.web import Response, post_all
from deploy.local.federation import ENTERPRISE_NODE, ROOTS, SUPERIOR_NODE, Federation, launch
from deploy.local.node import SERVICES
from deploy.local.smtp import SmtpSink
from shared.db import Database

HOME_ORG = "hzsteel-rolling"
MEMBER_DOMAIN = "members.example"


@dataclass
class FlowResult:
    figures: list[Figure]
    hops: list[Hop]
    notes: list[str]


class Databases:
    """Read-only access to the services' databases, one engine each, PostgreSQL or SQLite
    (WAL: reading never blocks a service's writer)."""

    def __init__(self) -> None:
        self._open: dict[str, Database] = {}

    async def rows(self, url: str, sql: str, **params: Any) -> list[Row[Any]]:
        db = self._open.get(url)
        if db is None:
            db = self._open[url] = Database(url)
        stmt = text(sql)
        lists = [name for name, value in params.items() if isinstance(value, list)]
        if lists:
            stmt = stmt.bindparams(*(bindparam(name, expanding=True) for name in lists))
        async with db.reading() as session:
            return list((await session.execute(stmt, params)).all())

    async def close(self) -> None:
        for db in self._open.values():
            await db.dispose()
        self._open.clear()


async def _wait(what: str, within: float, check: Any, interval: float = 0.2) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"flow: {what} not reached in {within:.0f} s")
        await asyncio.sleep(interval)


def _ts(value: datetime | str | None) -> float | None:
    """An instant as epoch seconds; SQLite hands back text, in UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _hop(name: str, pairs: list[tuple[float | None, float | None]], note: str = "") -> Hop:
    """A hop from (start, end) instants: rate over the span of its ends, latency end-start."""
    done = [(a, b) for a, b in pairs if a is not None and b is not None]
    ends = [b for _, b in done]
    span = max(ends) - min(ends) if len(ends) > 1 else 0.0
    return Hop(
        name,
        len(done),
        len(done) / span if span > 0 else float("nan"),
        1000 * percentile([b - a for a, b in done], 50),
        1000 * percentile([b - a for a, b in done], 99),
        note,
    )


async def register_members(
    federation: Federation,
    count: int,
    concurrency: int,
    node: str = ENTERPRISE_NODE,
    org: str = HOME_ORG,
) -> list[dict[str, Any]]:
    """`count` members of `org` at `node`, through its API (so they reach its notifications
    service through Kafka, as any member does), `concurrency` requests in flight."""
    token = federation.tokens.issue(node=node, org=org, roles="cadre", sub=f"cadre@{org}")
    bodies = []
    for _ in range(count):
        t = uuid.uuid4().hex[:10]
        bodies.append(
            {
                "home_org": org,
                "name": f"Worker {t}",
                "email": f"w{t}@{MEMBER_DOMAIN}",
                "language": "en",
            }
        )
    members: list[dict[str, Any]] = [{} for _ in bodies]

    def keep(i: int, response: Response | None) -> None:
        if response is not None and response.status == 201:
            members[i] = response.json()

    url = federation.nodes[node].url("enrollment")
    load = await post_all(url, token, "/members", bodies, concurrency, keep)
    if any(not m for m in members):
        raise RuntimeError(f"registering members at {node}: {load.statuses()}")
    return members


async def flow(
    env: RunEnv,
    smtp: SmtpSink,
    enrollments: int,
    raw_count: int,
    concurrency: int = 32,
    engine: str = "postgresql",
) -> FlowResult:
    limits = await raw.limits(env, raw_count)
    urls: dict[str, dict[str, str]] | None = None
    if engine == "postgresql":
        urls = {n: {s: await env.database(f"b_{n}_{s}") for s in SERVICES} for n in ROOTS}
    elif engine != "sqlite":
        raise ValueError(f"flow on {engine}: postgresql or sqlite")
    work = env.work / f"flow-{engine}"
    stack = ExitStack()
    log(f"flow: starting two nodes (6 service processes) on {engine} …")
    federation: Federation = await asyncio.to_thread(
        stack.enter_context,
        launch(
            env.kafka,
            work,
            smtp_port=smtp.port,
            partitions=6,
            database_urls=urls,
            extra_env=seed.UNLIMITED,
            progress=log,
        ),
    )
    databases = Databases()
    try:
        return await _run(
            env, smtp, federation, databases, engine, enrollments, concurrency, limits
        )
    finally:
        log("flow: stopping the nodes …")
        await databases.close()
        await asyncio.to_thread(stack.close)


async def _run(
    env: RunEnv,
    smtp: SmtpSink,
    federation: Federation,
    db: Databases,
    engine: str,
    count: int,
    concurrency: int,
    limits: dict[str, Any],
) -> FlowResult:
    def url(node: str, service: str) -> str:
        return federation.nodes[node].services[service].env["BIGSCHOOL_DATABASE_URL"]

    home_enrollment = url(ENTERPRISE_NODE, "enrollment")
    home_notifications = url(ENTERPRISE_NODE, "notifications")
    owner_enrollment = url(SUPERIOR_NODE, "enrollment")

    log(f"flow: registering {count} members …")
    members = await register_members(federation, count, min(concurrency, 16))
    member_ids = [m["member_id"] for m in members]
    email_of = {m["member_id"]: m["email"] for m in members}
    programme = await asyncio.to_thread(federation.publish_programme, SUPERIOR_NODE, "zj-hz", count)
    programme_id = programme["programme_id"]

    async def ready() -> bool:
        known = await db.rows(
            home_enrollment, "SELECT 1 FROM programmes WHERE programme_id = :p", p=programme_id
        )
        recipients = await db.rows(
            home_notifications,
            "SELECT count(*) FROM recipients WHERE member_id IN :ids",
            ids=member_ids,
        )
        return bool(known) and recipients[0][0] == count

    await _wait("programme and recipients known at the home node", 120, ready)

    pids: dict[str, int | None] = {
        f"{service}@{node_id}": (proc.proc.pid if proc.proc is not None else None)
        for node_id, node in federation.nodes.items()
        for service, proc in node.services.items()
    }
    pids["kafka broker"] = env.kafka_pid
    cpu_before = cpu_seconds({**pids, "postgres": env.postgres_pid})
    own_before = time.process_time()
    emails = set(email_of.values())

    token = federation.tokens.issue(
        node=ENTERPRISE_NODE, org=HOME_ORG, roles="cadre", sub=f"cadre@{HOME_ORG}"
    )
    bodies = [{"programme_id": programme_id, "member_id": m} for m in member_ids]
    wall_minus_perf = time.time() - time.perf_counter()
    log(f"flow: {count} enrollments …")
    load = await post_all(
        federation.nodes[ENTERPRISE_NODE].url("enrollment"),
        token,
        "/enrollments",
        bodies,
        concurrency,
    )
    if load.accepted != count:
        raise RuntimeError(f"POST /enrollments: {load.statuses()}")

    arrived: dict[str, float] = {}
    read = 0  # the sink's list only grows: look at each message once

    async def all_emailed() -> bool:
        nonlocal read
        messages = smtp.messages
        for mail in messages[read:]:
            for rcpt in mail.rcpt_tos:
                if rcpt in emails and rcpt not in arrived:
                    arrived[rcpt] = mail.received_at
        read = len(messages)
        return len(arrived) == count

    async def all_home_updated() -> bool:
        rows = await db.rows(
            home_enrollment,
            "SELECT count(*) FROM enrollments WHERE programme_id = :p AND status <> 'requested'",
            p=programme_id,
        )
        return bool(rows[0][0] == count)

    within = max(300.0, count / 2)
    await _wait("every e-mail at the sink", within, all_emailed)
    await _wait("every enrollment updated at home", within, all_home_updated)
    cpu_after = cpu_seconds({**pids, "postgres": env.postgres_pid})
    own_cpu = time.process_time() - own_before

    # -- per enrollment, per hop ------------------------------------------------------------
    home_rows = await db.rows(
        home_enrollment,
        "SELECT enrollment_id, member_id, requested_at, status FROM enrollments "
        "WHERE programme_id = :p",
        p=programme_id,
    )
    seats = {
        r.enrollment_id: _ts(r.decided_at)
        for r in await db.rows(
            owner_enrollment,
            "SELECT enrollment_id, decided_at FROM seats WHERE programme_id = :p",
            p=programme_id,
        )
    }
    deliveries = await db.rows(
        home_notifications,
        "SELECT member_id, ce_id, created_at, sent_at FROM deliveries "
        "WHERE channel = 'email' AND member_id IN :ids",
        ids=member_ids,
    )
    by_member = {r.member_id: r for r in deliveries}
    processed = {
        r.ce_id: _ts(r.processed_at)
        for r in await db.rows(
            home_enrollment,
            "SELECT ce_id, min(processed_at) AS processed_at FROM processed_events "
            "WHERE ce_id IN :ids GROUP BY ce_id",
            ids=[r.ce_id for r in deliveries],
        )
    }
    posted = {
        member_ids[i]: (start + wall_minus_perf, end + wall_minus_perf)
        for i, (start, end, _) in enumerate(load.results)
    }
    rows: list[dict[str, float | None]] = []
    for r in home_rows:
        member = r.member_id
        delivery = by_member.get(member)
        ce_id = delivery.ce_id if delivery is not None else None
        rows.append(
            {
                "posted": posted[member][0],
                "answered": posted[member][1],
                "requested": _ts(r.requested_at),
                "decided": seats.get(r.enrollment_id),
                "home_updated": processed.get(ce_id) if ce_id else None,
                "planned": _ts(delivery.created_at) if delivery is not None else None,
                "sent": _ts(delivery.sent_at) if delivery is not None else None,
                "emailed": arrived.get(email_of[member]),
            }
        )

    def pairs(a: str, b: str) -> list[tuple[float | None, float | None]]:
        return [(row[a], row[b]) for row in rows]

    hops = [
        _hop("POST /enrollments answered (home enrollment API)", pairs("posted", "answered")),
        _hop(
            "accepted → decided at the owner (home relay, Kafka, owner consumer)",
            pairs("requested", "decided"),
        ),
        _hop(
            "decided → home updated (owner relay, Kafka, home catalogue consumer)",
            pairs("decided", "home_updated"),
        ),
        _hop(
            "decided → notice planned (owner relay, Kafka, home notifications consumer)",
            pairs("decided", "planned"),
        ),
        _hop(
            "notice planned → e-mail at the SMTP sink (dispatcher, SMTP)",
            pairs("planned", "emailed"),
        ),
        _hop(
            "e-mail at the sink → delivery marked sent",
            pairs("emailed", "sent"),
            "after the e-mail: not on the path",
        ),
        _hop("end to end: POST → e-mail at the sink", pairs("posted", "emailed")),
    ]
    label = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}[engine]
    suffix = "" if engine == "postgresql" else f"_{engine}"
    if engine != "postgresql":
        for hop in hops:
            hop.name += f" [{engine}]"
    first = min(start for start, _ in posted.values())
    last = max(v for row in rows for v in (row["emailed"], row["home_updated"]) if v is not None)
    rate = count / (last - first)

    services_cpu = {
        name: cpu_after.get(name, 0.0) - cpu_before.get(name, 0.0)
        for name in pids
        if name in cpu_before
    }
    total = sum(services_cpu.values())
    per_ms = {name: round(1000 * seconds / count, 2) for name, seconds in services_cpu.items()}
    cpu_details: dict[str, Any] = {"ms_per_enrollment_by_process": per_ms}
    if "postgres" in cpu_before and engine == "postgresql":
        pg = cpu_after["postgres"] - cpu_before["postgres"]
        cpu_details["postgres_ms_per_enrollment"] = round(1000 * pg / count, 2)
        cpu_details["with_postgres_ms_per_enrollment"] = round(1000 * (total + pg) / count, 2)
    cpu_details["bench_process_ms_per_enrollment"] = round(1000 * own_cpu / count, 2)
    cpu_details["window_seconds"] = round(last - first, 3)

    on_path = [h for h in hops[1:5] if h.count]
    slowest = min(on_path, key=lambda h: h.rate) if on_path else None
    laggard = max(on_path, key=lambda h: h.p50_ms) if on_path else None
    notes = []
    if slowest is not None and laggard is not None:
        notes.append(
            f"end-to-end flow ({label}): slowest hop (lowest completion rate) is “{slowest.name}” "
            f"at {slowest.rate:,.1f}/s; most latency added (p50) by “{laggard.name}”, "
            f"{laggard.p50_ms:,.0f} ms."
        )
    heaviest = max(per_ms.items(), key=lambda kv: kv[1]) if per_ms else None
    if heaviest is not None:
        pg_note = ""
        if "postgres_ms_per_enrollment" in cpu_details:
            pg_note = f"; PostgreSQL {cpu_details['postgres_ms_per_enrollment']} ms (not counted)"
        notes.append(
            f"CPU per enrollment ({label}): most in {heaviest[0]} ({heaviest[1]:.1f} ms)"
            + pg_note
            + "."
        )
    figures = [
        Figure(
            f"end-to-end flow (accepted → decided → home updated → e-mailed), {label}",
            rate,
            "enrollments/s",
            "msg/s raw aiokafka produce+consume",
            limits["produce_consume"],
            None,
            key=f"flow{suffix}",
            goal_text="≥ 10x before",
            details={
                "enrollments": count,
                "seconds": round(last - first, 3),
                "concurrency": concurrency,
                "posts_per_s": round(load.rate, 1),
                "post_p50_ms": round(load.latency_ms(50), 1),
                "post_p99_ms": round(load.latency_ms(99), 1),
                "statuses_at_home": _count(r.status for r in home_rows),
            },
        ),
        Figure(
            f"CPU per enrollment, all service processes + broker, {label}",
            1000 * total / count,
            "ms",
            None,
            None,
            10.0,
            key=f"cpu{suffix}",
            details=cpu_details,
        ),
    ]
    log(f"flow: {rate:,.1f} enrollments/s; CPU {1000 * total / count:,.1f} ms per enrollment")
    return FlowResult(figures, hops, notes)


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[str(v)] = out.get(str(v), 0) + 1
    return out
