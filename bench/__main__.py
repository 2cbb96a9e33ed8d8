"""Every hot path of the spine beside its limit, measured in one run on one broker and one
PostgreSQL server (started here in scratch folders by tests/infra.py, or named by its
environment variables). Prints a table and writes JSON. Not part of the test suite.

    python -m bench                        # everything (several minutes on 2 cores)
    python -m bench --quick                # small counts: a smoke run of every scenario
    python -m bench --only relay,consumer  # some scenarios
    python -m bench --only hot --quick     # one scenario, small counts
    python -m bench --only facts           # awards fact ingestion, beside its own raw read
    python -m bench --only nominations     # a round of 2,000 nominations through three levels
    python -m bench --json out.json        # default .data/bench/bench-<time>.json
    python -m bench --show bench/results/before.json   # print a saved run's tables

Scenarios (one module each): relay, consumer, decisions, http (bench/web.py), mail
(bench/mail.py), flow, hot (a hot programme: requests through two home nodes into one
programme of a third), rollups (bench/rollups.py: roll-up queries on a 10,000-org
subtree with 1,000,000 members' snapshots), import (bench/roster.py: a 50,000-row roster
through the import job worker, beside COPY), facts (bench/award_facts.py: 200,000 enrollment
events into the awards service's eligibility facts, beside raw consume of the same messages),
nominations (bench/nominations.py: a round of 2,000 nominations filed at an enterprise node,
endorsed there, veto-checked and reviewed at the superior scheme owner's node), notifications
(bench/notifications.py: 5,000 decisions to inbox items and e-mails through the service's
consumer and dispatcher, beside raw consume; a public notice fanned out to 20,000 members,
beside a bulk INSERT of 20,000 inbox rows).
The raw aiokafka limits (bench/raw.py) are measured once, first.
Figures are compared with a before run (bench/results/before.json unless --before says
otherwise): the end-to-end flow's goal is 10x the ratio recorded there.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import logging
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import ROOT
from bench.common import RunEnv, log, postmaster_pid
from bench.report import BEFORE, Figure, Report, from_json, load, render, run_meta, write

SCENARIOS = (
    "relay",
    "consumer",
    "decisions",
    "http",
    "mail",
    "flow",
    "hot",
    "rollups",
    "import",
    "facts",
    "nominations",
    "notifications",
)


@dataclass(frozen=True)
class Counts:
    raw: int
    relay: int
    consumer: int
    decisions: int
    http: int
    http_warmup: int
    mail: int
    enrollments: int
    hot: int
    rollup_orgs: int
    import_rows: int
    facts: int
    nominations: int
    notices: int
    fanout_members: int


FULL = Counts(
    raw=20_000,
    relay=20_000,
    consumer=10_000,
    decisions=5_000,
    http=2_000,
    http_warmup=100,
    mail=2_000,
    enrollments=1_000,
    hot=5_000,
    rollup_orgs=10_000,
    import_rows=50_000,
    facts=200_000,
    nominations=2_000,
    notices=5_000,
    fanout_members=20_000,
)
QUICK = Counts(
    raw=3_000,
    relay=2_000,
    consumer=1_000,
    decisions=300,
    http=300,
    http_warmup=20,
    mail=200,
    enrollments=60,
    hot=200,
    rollup_orgs=1_000,
    import_rows=2_000,
    facts=2_000,
    nominations=50,
    notices=300,
    fanout_members=2_000,
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument("--quick", action="store_true", help="small counts (a smoke run)")
    parser.add_argument("--json", type=Path, help="where to write the results")
    parser.add_argument(
        "--before", type=Path, help=f"a before run to compare with (default {BEFORE})"
    )
    parser.add_argument("--show", type=Path, help="print the tables of a saved run and exit")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (logs)")
    counts = parser.add_argument_group("counts (defaults: full run / --quick)")
    for name, help_text in [
        ("raw", "messages for each raw aiokafka limit"),
        ("relay", "outbox rows relayed"),
        ("consumer", "events through the idempotent consumer"),
        ("decisions", "queued requests for one hot programme"),
        ("http", "timed POSTs per server"),
        ("http-warmup", "untimed POSTs first"),
        ("mail", "e-mails (bench/mail.py)"),
        ("enrollments", "enrollments through the end-to-end flow"),
        ("hot", "requests for the hot programme, half through each home node"),
        ("rollup-orgs", "orgs of the roll-up subtree (1,000,000 members' snapshots)"),
        ("import-rows", "rows of the roster file imported (bench/roster.py)"),
        ("facts", "enrollment events ingested into awards facts (bench/award_facts.py)"),
        ("nominations", "nominations of the round through three levels (bench/nominations.py)"),
        ("notices", "decisions through the notifications pipeline (bench/notifications.py)"),
        ("fanout-members", "members a public notice fans out to (bench/notifications.py)"),
    ]:
        counts.add_argument(f"--{name}", type=int, help=help_text)
    parser.add_argument(
        "--http-db",
        default="sqlite,postgresql",
        help="databases of the enrollment service under HTTP load (default: both)",
    )
    parser.add_argument(
        "--flow-db",
        default="postgresql",
        help="databases of the services in the end-to-end flow (postgresql, sqlite or both)",
    )
    parser.add_argument("--concurrency", type=int, default=32, help="HTTP requests in flight")
    args = parser.parse_args(argv)
    base = QUICK if args.quick else FULL
    args.counts = Counts(
        **{
            field: getattr(args, field) or getattr(base, field)
            for field in Counts.__dataclass_fields__
        }
    )
    only = [s.strip() for s in (args.only or ",".join(SCENARIOS)).split(",") if s.strip()]
    unknown = [s for s in only if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {SCENARIOS}")
    args.scenarios = [s for s in SCENARIOS if s in only]
    return args


@contextlib.contextmanager
def infrastructure(args: argparse.Namespace) -> Iterator[tuple[RunEnv, Any]]:
    """The broker, the PostgreSQL server and (for the flow) an SMTP sink of this run."""
    from tests import infra

    work = Path(tempfile.mkdtemp(prefix="bigschool-bench-"))
    try:
        with contextlib.ExitStack() as stack:
            log("starting Kafka …")
            cluster = stack.enter_context(infra.kafka_cluster())
            log("starting PostgreSQL …")
            postgres = stack.enter_context(infra.postgres_server())
            smtp = stack.enter_context(infra.smtp_sink()) if "flow" in args.scenarios else None
            env = RunEnv(
                kafka=cluster.admin,
                kafka_pid=cluster.local.pid if cluster.local is not None else None,
                postgres=postgres,
                postgres_pid=postmaster_pid(postgres),
                work=work,
            )
            yield env, smtp
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def mail_figure(result: Any) -> list[Figure]:
    """bench/mail.py's `mail_figures` result as figures (a dict of rates, or figures)."""
    if isinstance(result, Figure):
        return [result]
    if isinstance(result, dict) and "dispatcher_per_s" in result:
        return [
            Figure(
                "e-mails to a local SMTP sink (notifications dispatcher)",
                float(result["dispatcher_per_s"]),
                "e-mails/s",
                "e-mails/s bare aiosmtplib client, one connection",
                float(result["bare_smtp_per_s"]),
                0.5,
                key="mail",
                details={k: v for k, v in result.items() if k not in ("ratio",)},
            )
        ]
    if isinstance(result, list | tuple):
        return [f for item in result for f in mail_figure(item)]
    raise TypeError(f"mail_figures returned {type(result).__name__}")


async def run_scenarios(args: argparse.Namespace, env: RunEnv, smtp: Any, report: Report) -> None:
    c: Counts = args.counts

    async def attempt(name: str, body: Callable[[], Awaitable[None]]) -> None:
        started = time.perf_counter()
        try:
            await body()
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            report.errors[name] = f"{type(exc).__name__}: {exc}"[:500]
        report.meta.setdefault("scenario_seconds", {})[name] = round(
            time.perf_counter() - started, 1
        )

    # These need no raw Kafka limits (facts reads its own messages raw, in its own run).
    if set(args.scenarios) - {"mail", "rollups", "import", "facts", "nominations", "notifications"}:
        from bench import raw

        async def limits() -> None:
            await raw.limits(env, c.raw)

        await attempt("raw", limits)

    for name in args.scenarios:
        if name == "relay":
            from bench.relay import relay

            async def body() -> None:
                report.figures.append(await relay(env, c.relay, c.raw))

        elif name == "consumer":
            from bench.consumer import consumer

            async def body() -> None:
                report.figures.append(await consumer(env, c.consumer, c.raw))

        elif name == "decisions":
            from bench.decisions import decisions

            async def body() -> None:
                report.figures.append(await decisions(env, c.decisions, c.raw))

        elif name == "http":
            from bench.web import enrollment_http

            async def body() -> None:
                for engine in [e.strip() for e in args.http_db.split(",") if e.strip()]:
                    report.figures.append(
                        await enrollment_http(env, engine, c.http, c.http_warmup, args.concurrency)
                    )

        elif name == "mail":

            async def body() -> None:
                try:
                    from bench.mail import mail_figures
                except ImportError as exc:
                    raise RuntimeError(f"bench/mail.py is not usable here: {exc}") from exc
                log(f"mail: {c.mail} e-mails (bench/mail.py) …")
                result: Any = mail_figures(c.mail)
                if inspect.isawaitable(result):
                    result = await result
                report.figures.extend(mail_figure(result))

        elif name == "hot":
            from bench.hot import hot

            async def body() -> None:
                result = await hot(env, c.hot, c.raw, args.concurrency)
                report.figures.extend(result.figures)
                report.notes.extend(result.notes)

        elif name == "rollups":
            from bench.rollups import rollups

            async def body() -> None:
                report.figures.extend(await rollups(env, c.rollup_orgs))

        elif name == "import":
            from bench.roster import roster_import

            async def body() -> None:
                report.figures.append(await roster_import(env, c.import_rows))

        elif name == "facts":
            from bench.award_facts import award_facts

            async def body() -> None:
                report.figures.append(await award_facts(env, c.facts))

        elif name == "nominations":
            from bench.nominations import nominations

            async def body() -> None:
                result = await nominations(env, c.nominations, min(args.concurrency, 16))
                report.figures.extend(result.figures)
                report.hops.extend(result.hops)
                report.notes.extend(result.notes)

        elif name == "notifications":
            from bench.notifications import notifications

            async def body() -> None:
                result = await notifications(env, c.notices, c.fanout_members)
                report.figures.extend(result.figures)
                report.notes.extend(result.notes)

        else:  # flow
            from bench.flow import flow

            async def body() -> None:
                for engine in [e.strip() for e in args.flow_db.split(",") if e.strip()]:
                    result = await flow(env, smtp, c.enrollments, c.raw, args.concurrency, engine)
                    report.figures.extend(result.figures)
                    report.hops.extend(result.hops)
                    report.notes.extend(result.notes)

        await attempt(name, body)

    if env.limits:
        report.meta["raw_limits"] = {
            k: (round(v, 1) if isinstance(v, float) else v) for k, v in env.limits.items()
        }


def run(args: argparse.Namespace) -> Report:
    report = Report(meta=run_meta())
    report.meta["counts"] = args.counts.__dict__ | {"concurrency": args.concurrency}
    report.meta["scenarios"] = args.scenarios
    with infrastructure(args) as (env, smtp):
        report.meta["kafka"] = "local broker" if env.kafka_pid else "external"
        report.meta["postgres"] = "local server" if env.postgres_pid else "external"
        _event_loop_run(run_scenarios(args, env, smtp, report))
    report.meta["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    report.meta["load_average_at_end"] = list(os.getloadavg())
    return report


def _event_loop_run(main: Any) -> None:
    try:
        import uvloop  # what the services run on (uvicorn picks it when installed)
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def quiet_logs() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # SASL/PLAIN to the local broker's plaintext listener: said once per connection.
    logging.getLogger("aiokafka.conn").setLevel(logging.ERROR)
    logging.getLogger("kafka.net.sasl.plain").setLevel(logging.ERROR)  # kafka-python (ACLs)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_logs()
    if args.show is not None:
        data = load(args.show)
        if data is None:
            print(f"cannot read {args.show}", file=sys.stderr)
            return 2
        report = from_json(data)
        report.apply_before(load(args.before) if args.before else None)
        print(render(report))
        return 0
    out = args.json or ROOT / ".data" / "bench" / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    report = run(args)
    before_path = args.before or (BEFORE if BEFORE.is_file() else None)
    if before_path is not None and before_path.resolve() != out.resolve():
        report.apply_before(load(before_path))
    write(report, out)
    print(render(report))
    print(f"\nresults: {out}")
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
