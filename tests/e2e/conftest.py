"""The federation under test: two nodes, each service its own OS process with its own
PostgreSQL database, one real Kafka broker, one real SMTP server, one real HTTP server (the
SMS provider and the integrators' webhook receiver)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from deploy.local.federation import ROOTS, Federation, launch
from deploy.local.http_sink import HttpSink
from deploy.local.node import SERVICES, Node
from deploy.local.smtp import SmtpSink
from shared.kafka.connection import KafkaConnection
from tests import infra

# Short sessions so that partitions of a SIGKILLed consumer move within seconds.
FAST_FAILOVER = {
    "BIGSCHOOL_KAFKA_SESSION_TIMEOUT_MS": "6000",
    "BIGSCHOOL_KAFKA_HEARTBEAT_INTERVAL_MS": "1000",
    "BIGSCHOOL_LOG_LEVEL": "INFO",
    # A message naming an org no node knows is dead-lettered after 8 s instead of 10 min.
    "BIGSCHOOL_HELD_LIMIT_SECONDS": "8",
    # Offers whose time is up are looked for every second (the tests move the clock).
    "BIGSCHOOL_OFFER_CHECK_SECONDS": "1",
    # A killed worker's roster import is taken over 5 s after its lease was last renewed.
    "BIGSCHOOL_ROSTER_LEASE_SECONDS": "5",
    "BIGSCHOOL_STATS_DEBOUNCE_SECONDS": "1",  # roll-up snapshots published every second
    "BIGSCHOOL_OPS_SAMPLE_SECONDS": "2",  # /metrics' lag and outbox gauges
}

# Traces leave every service for the test's OTLP receiver, but only those a test starts
# sampled (a `traceparent` with the sampled flag): the other tests' spans are not recorded.
SAMPLED_TRACES_ONLY = {
    "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
    "OTEL_TRACES_SAMPLER_ARG": "0",
    "OTEL_BSP_SCHEDULE_DELAY": "200",  # milliseconds between two exports
}


@dataclass
class RunningFederation:
    federation: Federation
    smtp: SmtpSink
    http: HttpSink  # the SMS provider (POST /messages) and webhook receiver (any other path)
    otlp: HttpSink  # the OTLP/HTTP trace receiver (POST /v1/traces, protobuf)
    kafka: KafkaConnection  # the admin: reads every topic, to check what crossed nodes
    keys_dir: Path
    database_urls: dict[str, dict[str, str]]
    cluster: infra.KafkaCluster  # `.local` is the broker process when this run started it
    postgres: infra.PostgresServer
    clock_file: Path  # every service's clock runs this many seconds ahead (OffsetFileClock)

    def advance_clock(self, seconds: float) -> None:
        """Move every service's clock forward (it re-reads the file when it changes)."""
        current = float(self.clock_file.read_text() or 0) if self.clock_file.exists() else 0.0
        self.clock_file.write_text(str(current + seconds))

    def now(self) -> datetime:
        """What every service's clock says now (ahead of the wall clock by the offset)."""
        offset = float(self.clock_file.read_text() or 0) if self.clock_file.exists() else 0.0
        return datetime.now(UTC) + timedelta(seconds=offset)

    def node(self, node_id: str) -> Node:
        return self.federation.nodes[node_id]


@pytest.fixture(scope="session")
def running_federation(
    kafka_cluster: infra.KafkaCluster, postgres_server: infra.PostgresServer
) -> Iterator[RunningFederation]:
    kafka_admin = kafka_cluster.admin
    work = Path(tempfile.mkdtemp(prefix="bigschool-e2e-"))
    clock_file = work / "clock-offset"
    clock_file.write_text("0")
    urls = {
        node: {
            s: postgres_server.create_database(infra.unique_db_name(f"{node}_{s}"))
            for s in SERVICES
        }
        for node in ROOTS
    }
    with (
        SmtpSink() as smtp,
        HttpSink() as http,
        HttpSink() as otlp,
        launch(
            kafka_admin,
            work,
            smtp_port=smtp.port,
            partitions=3,
            database_urls=urls,
            extra_env={
                **FAST_FAILOVER,
                **SAMPLED_TRACES_ONLY,
                "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.url,
                "BIGSCHOOL_CLOCK_OFFSET_FILE": str(clock_file),
                "BIGSCHOOL_SMS_BASE_URL": http.url,
                # The receiver listens on loopback, which webhooks refuse by default (SSRF).
                "BIGSCHOOL_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
            },
            # Production-like: enrollment runs as two worker processes per node (shared
            # consumer groups, one relay lease), the rest as one.
            service_env={"enrollment": {"BIGSCHOOL_HTTP_WORKERS": "2"}},
        ) as federation,
    ):
        yield RunningFederation(
            federation,
            smtp,
            http,
            otlp,
            kafka_admin,
            work / "keys",
            urls,
            kafka_cluster,
            postgres_server,
            clock_file,
        )


@pytest.fixture(scope="module")
def browser(running_federation: RunningFederation) -> Iterator[Browser]:
    """Debian's chromium, headless (see tests/e2e/browser.py). Per module, after the
    federation: Playwright's synchronous API runs an event loop in this thread while it is
    open, and every asyncio.run() of a later test (the federation's start too) would refuse."""
    from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
