"""What the scenarios share: the run's broker and database, sample events, progress watching,
percentiles and CPU time of process trees."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient

from bench import ROOT
from shared.contracts.base import Event
from shared.contracts.envelope import envelope_for
from shared.contracts.events import EnrollmentRequested
from shared.contracts.topics import TopicSpec
from shared.kafka.connection import KafkaConnection
from shared.kafka.topics import ensure_topics
from tests import infra

ENROLLMENT_MIGRATIONS = ROOT / "services" / "enrollment" / "migrations"
SOURCE = "bigschool/bench/enrollment"
# (key, value, headers): a Kafka message as the relay would send it.
Message = tuple[bytes, bytes, list[tuple[str, bytes]]]


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def tag() -> str:
    return uuid.uuid4().hex[:8]


@dataclass
class RunEnv:
    """The broker, database server and scratch folder every scenario of one run uses."""

    kafka: KafkaConnection  # the admin principal (SASL is on)
    kafka_pid: int | None
    postgres: infra.PostgresServer
    postgres_pid: int | None
    work: Path
    limits: dict[str, Any] = field(default_factory=dict)  # raw figures, measured once per run

    async def database(self, prefix: str) -> str:
        """A new, empty PostgreSQL database on the run's server; its SQLAlchemy URL."""
        name = infra.unique_db_name(prefix)
        return await asyncio.to_thread(self.postgres.create_database, name)

    async def topic(self, prefix: str, partitions: int = 6) -> str:
        """A new topic, once every partition has a leader."""
        name = f"bench.{prefix}.{tag()}"
        await ensure_topics(self.kafka, [TopicSpec(name, partitions)])
        await topics_ready(self.kafka, [name])
        return name


async def topics_ready(kafka: KafkaConnection, names: list[str], within: float = 30) -> None:
    """Wait until every partition of `names` has a leader (a new topic takes a moment)."""
    admin = AIOKafkaAdminClient(**kafka.aiokafka())
    await admin.start()
    try:
        deadline = time.monotonic() + within
        while True:
            described = await admin.describe_topics(names)
            if all(
                t.get("error_code", 0) == 0
                and t.get("partitions")
                and all(p.get("leader", -1) >= 0 for p in t["partitions"])
                for t in described
            ):
                await asyncio.sleep(0.5)  # leaders elected; let them settle in
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"topics {names} have no leaders after {within:.0f} s")
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


def postmaster_pid(server: infra.PostgresServer) -> int | None:
    """The PostgreSQL server's main pid when this run started it (deploy.local.postgres)."""
    pgdata = getattr(server, "pgdata", None)
    if pgdata is None:
        return None
    try:
        return int((Path(pgdata) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# -- events ---------------------------------------------------------------------------------------


def request_event(programme_id: str, home_org: str, home_node: str) -> EnrollmentRequested:
    return EnrollmentRequested(
        enrollment_id=str(uuid.uuid4()),
        programme_id=programme_id,
        member_id=str(uuid.uuid4()),
        home_org=home_org,
        home_node=home_node,
        requested_at=datetime.now(UTC),
    )


def message_of(event: Event, source: str = SOURCE) -> Message:
    """The message the relay would send for `event`: key, JSON body, CloudEvents headers."""
    envelope = envelope_for(event, source=source, at=datetime.now(UTC))
    return event.key().encode(), event.model_dump_json().encode(), envelope.headers()


def sample_events(count: int, keys: int = 500) -> list[EnrollmentRequested]:
    """`count` enrollment requests spread over `keys` programmes (the Kafka key)."""
    programmes = [str(uuid.uuid4()) for _ in range(keys)]
    return [request_event(programmes[i % keys], "bench-org", "bench") for i in range(count)]


# -- measuring ------------------------------------------------------------------------------------


@dataclass
class Progress:
    """How a count grew to its target: when it was first seen above zero, and when done."""

    started: float  # perf_counter when watching began (the consumer/relay was just started)
    first_at: float  # first poll that saw progress
    first_count: int  # the count at that poll (work done before the clock starts)
    done_at: float
    target: int

    @property
    def steady_rate(self) -> float:
        """Items per second from the first progress seen to the end: startup (group join,
        lease) is left out, for the production path and its raw limit alike."""
        span = self.done_at - self.first_at
        items = self.target - self.first_count
        if items <= 0 or span <= 0:
            return self.target / max(self.done_at - self.started, 1e-9)
        return items / span

    @property
    def seconds(self) -> float:
        return self.done_at - self.started

    def details(self) -> dict[str, float]:
        return {
            "count": self.target,
            "seconds": round(self.seconds, 3),
            "startup_seconds": round(self.first_at - self.started, 3),
            "rate_including_startup": round(self.target / max(self.seconds, 1e-9), 1),
        }


async def watch(
    count: Callable[[], Awaitable[int]],
    target: int,
    *,
    within: float,
    what: str,
    interval: float = 0.02,
    alive: Callable[[], None] | None = None,
) -> Progress:
    """Poll `count()` until it reaches `target`; `alive()` may raise if the worker died."""
    started = time.perf_counter()
    first_at, first_count = 0.0, 0
    while True:
        now_count = await count()
        now = time.perf_counter()
        if now_count > 0 and not first_at:
            first_at, first_count = now, now_count
        if now_count >= target:
            return Progress(started, first_at or now, first_count, now, target)
        if now - started > within:
            raise TimeoutError(f"{what}: {now_count} of {target} after {within:.0f} s")
        if alive is not None:
            alive()
        await asyncio.sleep(interval)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of `values`; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# -- CPU time -------------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and its reaped children)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields follow the last ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return ppid, (utime + stime + cutime + cstime) / CLOCK_TICKS


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            tree.setdefault(stat[0], []).append(int(entry))
    return tree


def cpu_seconds(pids: dict[str, int | None]) -> dict[str, float]:
    """CPU seconds (user + system) so far of each named process with all its descendants,
    from /proc/<pid>/stat: a service's worker processes count as the service."""
    tree = _children()
    out: dict[str, float] = {}
    for name, root in pids.items():
        if root is None:
            continue
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            if (stat := _stat(pid)) is not None:
                total += stat[1]
            todo.extend(tree.get(pid, []))
        out[name] = total
    return out


def own_cpu_seconds() -> float:
    return time.process_time()


@dataclass
class CpuUse:
    """CPU seconds this process and the run's PostgreSQL server (when this run started it)
    spent from `start()` to `stop()`, and per item of the work done in between."""

    postgres_pid: int | None
    process: float = 0.0
    postgres: float | None = None

    def start(self) -> None:
        self.process = time.process_time()
        self.postgres = cpu_seconds({"pg": self.postgres_pid}).get("pg")

    def stop(self) -> None:
        self.process = time.process_time() - self.process
        after = cpu_seconds({"pg": self.postgres_pid}).get("pg")
        self.postgres = None if after is None or self.postgres is None else after - self.postgres

    def per_item_ms(self, items: int, item: str) -> dict[str, float]:
        out = {f"cpu_ms_per_{item}_this_process": round(1000 * self.process / items, 3)}
        if self.postgres is not None:
            out[f"cpu_ms_per_{item}_postgres"] = round(1000 * self.postgres / items, 3)
        return out
