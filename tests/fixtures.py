"""Infrastructure fixtures for every test in the repo (backend choice lives in tests/infra.py).

Kafka and PostgreSQL are session-scoped and start lazily: only when a collected test asks for
them, so unit-only runs never pay for a broker or a database server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deploy.local.smtp import SmtpSink
from shared.kafka.connection import KafkaConnection
from tests import infra


@pytest.fixture(scope="session")
def kafka_cluster() -> Iterator[infra.KafkaCluster]:
    """A real Kafka 4.x broker with SASL and ACLs on (env, Docker, or a local JVM)."""
    with infra.kafka_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def kafka_admin(kafka_cluster: infra.KafkaCluster) -> KafkaConnection:
    """The broker's admin (super user) connection: topics, principals, ACLs, test clients."""
    return kafka_cluster.admin


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[infra.PostgresServer]:
    """A real PostgreSQL server; ``create_database(name)`` returns an asyncpg SQLAlchemy URL."""
    with infra.postgres_server() as server:
        yield server


@pytest.fixture
def fresh_pg_url(postgres_server: infra.PostgresServer) -> Iterator[str]:
    """A new, empty database for this test only (dropped afterwards)."""
    name = infra.unique_db_name()
    url = postgres_server.create_database(name)
    yield url
    postgres_server.drop_database(name)


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A started SMTP sink on a free port; inspect ``.messages``."""
    with infra.smtp_sink() as sink:
        yield sink
