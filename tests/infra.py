"""Which backend serves Kafka, PostgreSQL and SMTP: shared by the pytest fixtures, the e2e
harness and the bench.

Order of preference for Kafka and PostgreSQL:
  1. an existing server named by an environment variable (CI services, a developer's own;
     for Kafka the KAFKA_* variables name its admin principal);
  2. a Docker container via testcontainers, when a Docker engine answers;
  3. a real server started from local binaries (deploy.local), in a scratch directory.

Everything here is a plain context manager so non-pytest callers can use it too.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import asyncpg
from sqlalchemy.engine import make_url

from deploy.local.kafka import ADMIN_USER, LocalKafka, server_properties
from deploy.local.ports import free_port
from deploy.local.postgres import LocalPostgres, validate_db_name
from deploy.local.smtp import SmtpSink
from shared.kafka.connection import KafkaConnection, KafkaSettings

__all__ = [
    "KAFKA_ENV",
    "KAFKA_IMAGE",
    "POSTGRES_ENV",
    "POSTGRES_IMAGE",
    "KafkaCluster",
    "PostgresAdmin",
    "PostgresServer",
    "docker_available",
    "kafka_cluster",
    "postgres_server",
    "smtp_sink",
    "unique_db_name",
]

KAFKA_ENV = "KAFKA_BOOTSTRAP_SERVERS"
POSTGRES_ENV = "BIGSCHOOL_TEST_POSTGRES_URL"
KEEP_DIRS_ENV = "BIGSCHOOL_KEEP_INFRA_DIRS"  # set to 1 to keep scratch dirs (logs) for debugging
KAFKA_IMAGE = "apache/kafka:4.1.1"  # same version as deploy/kafka/pom.xml
POSTGRES_IMAGE = "postgres:15-alpine"  # same major version as the Debian package we use

T = TypeVar("T")


# -- helpers -------------------------------------------------------------------------------------


@functools.cache
def docker_available() -> bool:
    """True if a Docker engine answers ``docker info`` within 5 s (a CLI alone is not enough)."""
    if shutil.which("docker") is None:
        return False
    try:
        proc = subprocess.run(
            ["docker", "info"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


@contextmanager
def _scratch_dir(prefix: str) -> Iterator[Path]:
    # Under the system temp dir (world-traversable), not pytest's 0700 /tmp/pytest-of-<user>:
    # the PostgreSQL server runs as the `postgres` OS user and must reach its data dir.
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        if os.environ.get(KEEP_DIRS_ENV):
            print(f"[infra] kept {path}", file=sys.stderr)
        else:
            shutil.rmtree(path, ignore_errors=True)


def _run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    # Run in a private thread + loop: callers may be sync code inside a running event loop
    # (pytest-asyncio session loop, the harness), where asyncio.run() would refuse to work.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def unique_db_name(prefix: str = "test") -> str:
    return validate_db_name(f"{prefix}_{uuid.uuid4().hex[:12]}")


# -- Kafka ---------------------------------------------------------------------------------------


@dataclass
class KafkaCluster:
    """A running Kafka 4.x broker with authentication on, reached as its admin (a super user
    that provisions topics, node principals and ACLs). `local` is set when this process runs
    the broker, so a test may stop and restart it."""

    admin: KafkaConnection
    local: LocalKafka | None = None


@contextmanager
def kafka_cluster() -> Iterator[KafkaCluster]:
    """Yield a running broker: from the KAFKA_* environment (its admin principal), a Docker
    container, or a local JVM."""
    if os.environ.get(KAFKA_ENV):
        yield KafkaCluster(KafkaSettings().connection())
    elif docker_available():
        with _kafka_container() as admin:
            yield KafkaCluster(admin)
    else:
        with _scratch_dir("bigschool-kafka-") as data_dir:
            with LocalKafka(data_dir, free_port()) as kafka:
                yield KafkaCluster(kafka.admin, kafka)


@contextmanager
def _kafka_container() -> Iterator[KafkaConnection]:
    # testcontainers' KafkaContainer drives Confluent's cp-kafka image only (its start script
    # lives in /etc/confluent), so the official apache/kafka image runs as a generic container
    # configured through KAFKA_* variables with the same settings as LocalKafka.
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    port = free_port()
    container = DockerContainer(KAFKA_IMAGE)
    host = container.get_docker_client().host()
    admin_password = secrets.token_urlsafe(24)
    props = server_properties(
        port=port,
        controller_port=9093,
        log_dir="/tmp/kraft-combined-logs",
        admin_password=admin_password,
        controller_password=secrets.token_urlsafe(24),
        listen_host="0.0.0.0",
        advertised_host=host,
    )
    # Same port inside and outside: the advertised listener must be what clients can reach.
    container.with_bind_ports(port, port)
    for key, value in props.items():
        # apache/kafka image convention: '_' -> '__', '-' -> '___', '.' -> '_', upper-case.
        env = key.replace("_", "__").replace("-", "___").replace(".", "_").upper()
        container.with_env(f"KAFKA_{env}", value)
    container.waiting_for(LogMessageWaitStrategy("Kafka Server started").with_startup_timeout(120))
    with container:
        yield KafkaConnection(
            f"{host}:{port}",
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="PLAIN",
            username=ADMIN_USER,
            password=admin_password,
        )


# -- PostgreSQL ----------------------------------------------------------------------------------


class PostgresServer(Protocol):
    """What tests need from a PostgreSQL server, whatever runs it."""

    @property
    def admin_url(self) -> str: ...

    def create_database(self, name: str) -> str:
        """Create database ``name``; return its ``postgresql+asyncpg://`` SQLAlchemy URL."""
        ...

    def drop_database(self, name: str) -> None: ...


class PostgresAdmin:
    """An already running server, reached through a superuser ``admin_url``."""

    def __init__(self, admin_url: str) -> None:
        url = make_url(admin_url)
        # asyncpg wants a plain postgresql:// DSN, whatever driver the caller wrote.
        self.admin_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._url = url

    def url(self, name: str) -> str:
        url = self._url.set(drivername="postgresql+asyncpg", database=validate_db_name(name))
        return url.render_as_string(hide_password=False)

    def create_database(self, name: str) -> str:
        # The name is a validated identifier, so quoting it is enough (DDL takes no parameters).
        self._execute(f'CREATE DATABASE "{validate_db_name(name)}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        # FORCE: tests may leave pooled connections open; they must not block the cleanup.
        self._execute(f'DROP DATABASE IF EXISTS "{validate_db_name(name)}" WITH (FORCE)')

    def _execute(self, sql: str) -> None:
        async def run() -> None:
            conn = await asyncpg.connect(self.admin_url, timeout=10)
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        _run_async(run)


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Yield a running PostgreSQL server able to create databases."""
    from_env = os.environ.get(POSTGRES_ENV)
    if from_env:
        yield PostgresAdmin(from_env)
    elif docker_available():
        try:  # testcontainers >= 4.15 moved the modules under `community`
            from testcontainers.community.postgres import PostgresContainer
        except ImportError:
            from testcontainers.postgres import PostgresContainer

        container = PostgresContainer(POSTGRES_IMAGE, driver=None).with_command(
            # Same settings as LocalPostgres: room for every service's pool, no disk flushes.
            "postgres -c max_connections=300 -c fsync=off -c synchronous_commit=off"
        )
        with container:
            yield PostgresAdmin(container.get_connection_url())
    else:
        with _scratch_dir("bigschool-pg-") as data_dir:
            with LocalPostgres(data_dir, free_port()) as server:
                yield server


# -- SMTP ----------------------------------------------------------------------------------------


@contextmanager
def smtp_sink(mail_dir: Path | None = None) -> Iterator[SmtpSink]:
    """Yield a started SMTP sink on a free 127.0.0.1 port."""
    with SmtpSink(mail_dir=mail_dir) as sink:
        yield sink
