"""The figures of bench/nominations.py: each nomination's timeline read back from the home
and the owner node's awards databases (a step's `at` in `nomination_steps`, and its arrival at
the other node: `processed_events.processed_at` of its `ce_id` there), the load of each stage
as the client saw it, and what they add up to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.common import percentile
from bench.flow import Databases, _hop, _ts
from bench.report import Figure, Hop
from bench.web import Load

NO_GOAL = "—"
Pairs = list[tuple[float | None, float | None]]
Steps = dict[tuple[str, str], tuple[str, float]]  # (nomination, step name) → (ce_id, at)


async def _steps(db: Databases, url: str, round_id: str) -> Steps:
    """(nomination, step name) → (ce_id, at) from one node's trail; the later of two reviews."""
    rows = await db.rows(
        url,
        "SELECT s.nomination_id, s.ce_type, s.ce_id, s.at FROM nomination_steps s "
        "JOIN nominations n ON n.nomination_id = s.nomination_id WHERE n.round_id = :r "
        "ORDER BY s.step",
        r=round_id,
    )
    out: Steps = {}
    for r in rows:
        at = _ts(r.at)
        assert at is not None
        out[(r.nomination_id, r.ce_type.split(".")[2].removeprefix("nomination_"))] = (r.ce_id, at)
    return out


async def _arrivals(db: Databases, url: str, round_id: str) -> dict[str, float | None]:
    """ce_id → when one node's nominations consumer took the step in (its batch's start)."""
    rows = await db.rows(
        url,
        "SELECT p.ce_id, p.processed_at FROM processed_events p "
        "JOIN nomination_steps s ON s.ce_id = p.ce_id "
        "JOIN nominations n ON n.nomination_id = s.nomination_id "
        "WHERE p.handler = 'nominations' AND n.round_id = :r",
        r=round_id,
    )
    return {r.ce_id: _ts(r.processed_at) for r in rows}


@dataclass
class Timeline:
    """Per nomination, the moments of each step at the node that took it and at the other."""

    rows: list[dict[str, float | None]]

    def pairs(self, a: str, b: str) -> Pairs:
        return [(row.get(a), row.get(b)) for row in self.rows]

    def last(self, key: str) -> float:
        return max(v for row in self.rows if (v := row.get(key)) is not None)

    def latencies_ms(self, a: str, b: str) -> list[float]:
        return [1000 * (y - x) for x, y in self.pairs(a, b) if x is not None and y is not None]


async def read_timeline(
    db: Databases, home_url: str, owner_url: str, round_id: str, ids: Sequence[str]
) -> Timeline:
    """The round's steps from the home and the owner node's awards databases."""
    home, owner = await _steps(db, home_url, round_id), await _steps(db, owner_url, round_id)
    at_home = await _arrivals(db, home_url, round_id)
    at_owner = await _arrivals(db, owner_url, round_id)
    rows = []
    for i in ids:
        filed, admitted = home.get((i, "filed")), owner.get((i, "admitted"))
        endorsed, reviewed = home.get((i, "endorsed")), owner.get((i, "reviewed"))
        cleared = owner.get((i, "veto_cleared"))
        rows.append(
            {
                "filed": filed[1] if filed else None,
                "admitted": admitted[1] if admitted else None,
                "admitted_home": at_home.get(admitted[0]) if admitted else None,
                "endorsed": endorsed[1] if endorsed else None,
                "endorsed_owner": at_owner.get(endorsed[0]) if endorsed else None,
                "cleared": cleared[1] if cleared else None,
                "reviewed": reviewed[1] if reviewed else None,
                "reviewed_home": at_home.get(reviewed[0]) if reviewed else None,
            }
        )
    return Timeline(rows)


@dataclass
class Loads:
    filing: Load
    endorsing: Load
    assessing: list[Load]  # the veto checks, then each reviewer's reviews
    wall: float  # time.time() - time.perf_counter(): the loads' instants as epoch seconds

    def pairs(self, *loads: Load) -> Pairs:
        return [(a + self.wall, b + self.wall) for load in loads for a, b, _ in load.results]

    def first(self, load: Load) -> float:
        return self.wall + min(start for start, _, _ in load.results)


def _stage(
    name: str, key: str, count: int, seconds: float, latencies_ms: list[float], **details: Any
) -> Figure:
    return Figure(
        name,
        count / seconds,
        "nominations/s",
        None,
        None,
        None,
        key=key,
        goal_text=NO_GOAL,
        details={
            "seconds": round(seconds, 3),
            "p50_ms": round(percentile(latencies_ms, 50), 1),
            "p99_ms": round(percentile(latencies_ms, 99), 1),
            **details,
        },
    )


def _stages(n: int, t: Timeline, loads: Loads) -> list[Figure]:
    post_ms = [1000 * (b - a) for load in loads.assessing for a, b, _ in load.results]
    return [
        _stage(
            "nominations stage 1: filed at hzsteel → admitted by zj → seen at hzsteel "
            "(p50/p99 per nomination)",
            "nominations_filed",
            n,
            t.last("admitted_home") - loads.first(loads.filing),
            t.latencies_ms("filed", "admitted_home"),
            posts_per_s=round(loads.filing.rate, 1),
            post_p50_ms=round(loads.filing.latency_ms(50), 1),
            post_p99_ms=round(loads.filing.latency_ms(99), 1),
        ),
        _stage(
            "nominations stage 2: endorsed at hzsteel → arrived at zj (p50/p99 per nomination)",
            "nominations_endorsed",
            n,
            t.last("endorsed_owner") - loads.first(loads.endorsing),
            t.latencies_ms("endorsed", "endorsed_owner"),
            post_p50_ms=round(loads.endorsing.latency_ms(50), 1),
            post_p99_ms=round(loads.endorsing.latency_ms(99), 1),
        ),
        _stage(
            "nominations stage 3: veto check + 2 reviews at zj, 3 POSTs each (p50/p99 per POST)",
            "nominations_assessed",
            n,
            t.last("reviewed") - loads.first(loads.assessing[0]),
            post_ms,
        ),
    ]


def _hops(t: Timeline, loads: Loads) -> list[Hop]:
    return [
        _hop("nominations: POST /nominations answered (hzsteel awards)", loads.pairs(loads.filing)),
        _hop(
            "nominations: filed at hzsteel → admitted at zj (relay, Kafka, zj consumer admits)",
            t.pairs("filed", "admitted"),
        ),
        _hop(
            "nominations: admitted at zj → seen at hzsteel (relay, Kafka, hzsteel consumer)",
            t.pairs("admitted", "admitted_home"),
        ),
        _hop("nominations: POST …/endorse answered (hzsteel awards)", loads.pairs(loads.endorsing)),
        _hop(
            "nominations: endorsed at hzsteel → arrived at zj (relay, Kafka, zj consumer)",
            t.pairs("endorsed", "endorsed_owner"),
        ),
        _hop(
            "nominations: POST …/veto-checks answered (zj awards)", loads.pairs(loads.assessing[0])
        ),
        _hop(
            "nominations: POST …/reviews answered (zj awards, both reviewers)",
            loads.pairs(*loads.assessing[1:]),
        ),
        _hop(
            "nominations: last review at zj → seen at hzsteel (relay, Kafka, hzsteel consumer)",
            t.pairs("reviewed", "reviewed_home"),
            "after the round is in review: not on the path",
        ),
    ]


@dataclass
class Cpu:
    """CPU seconds each process spent over the round's window, and per second when idle."""

    spent: dict[str, float]
    idle_per_s: dict[str, float]
    window: float  # seconds: first filing → every step in the home node's replica

    def net(self, name: str) -> float:
        return self.spent[name] - self.idle_per_s.get(name, 0.0) * self.window


def _cpu_figure(count: int, cpu: Cpu) -> Figure:
    awards = [k for k in cpu.spent if k.startswith("awards@")]
    net = sum(cpu.net(k) for k in awards)
    return Figure(
        "CPU per nomination, the awards processes of the three nodes (3 levels)",
        1000 * sum(cpu.spent[k] for k in awards) / count,
        "ms",
        None,
        None,
        None,
        key="nominations_cpu",
        goal_text=NO_GOAL,
        details={
            "awards_ms_per_nomination_net_of_idle": round(1000 * net / count, 2),
            "ms_per_nomination_by_process": {
                k: round(1000 * v / count, 2) for k, v in sorted(cpu.spent.items())
            },
            "net_of_idle_ms_per_nomination_by_process": {
                k: round(1000 * cpu.net(k) / count, 2) for k in sorted(cpu.spent)
            },
            "idle_cpu_percent_by_process": {
                k: round(100 * v, 1) for k, v in sorted(cpu.idle_per_s.items())
            },
            "window": "first filing → every step in hzsteel's replica",
            "window_seconds": round(cpu.window, 3),
        },
    )


def figures(
    count: int, concurrency: int, t: Timeline, loads: Loads, cpu: Cpu
) -> tuple[list[Figure], list[Hop], list[str]]:
    """The round's figures, its hops and a note, from its timeline, loads and CPU seconds."""
    start = loads.first(loads.filing)
    total = t.last("reviewed") - start
    stages = _stages(count, t, loads)
    spent = sum(f.details["seconds"] for f in stages)
    whole = Figure(
        f"a round of {count:,} nominations through three levels: first filing → last in "
        "review at the owner, PostgreSQL",
        total,
        "s",
        None,
        None,
        None,
        key="nominations",
        goal_text=NO_GOAL,
        details={
            "nominations": count,
            "nominations_per_s": round(count / total, 1),
            "stage_seconds": [f.details["seconds"] for f in stages],
            "between_stages_seconds": round(total - spent, 3),
            "concurrency": concurrency,
        },
    )
    out = [whole, *stages, _cpu_figure(count, cpu)]
    slowest = min(stages, key=lambda f: f.value)
    notes = [
        f"nominations: {count:,} through three levels in {total:,.1f} s "
        f"({count / total:,.1f}/s); slowest stage “{slowest.name}” at "
        f"{slowest.value:,.1f}/s; awards CPU {out[-1].value:,.1f} ms per nomination "
        f"({out[-1].details['awards_ms_per_nomination_net_of_idle']:,.1f} ms net of idle)."
    ]
    return out, _hops(t, loads), notes
