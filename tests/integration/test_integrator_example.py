"""The example integrator consumer (examples/integrator/consumer.py) against the real broker:
as a read-only integrator principal, it reads events that the outbox relay published, checks
each against the published JSON Schema, reports broken messages and skips duplicates."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from enrollment.models import MESSAGING
from shared.contracts import topics
from shared.contracts.envelope import header_map
from shared.contracts.events import EnrollmentConfirmed
from shared.db import Database
from shared.kafka.connection import KafkaConnection
from shared.kafka.provision import provision
from shared.messaging.outbox import Outbox, OutboxRelay, Producer
from shared.testing import a_confirmation, sqlite_database
from tests.integration.kafka_tools import read_to_end

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CONSUMER = REPO / "examples" / "integrator" / "consumer.py"
MIGRATIONS = REPO / "services" / "enrollment" / "migrations"


@dataclass(frozen=True)
class Federation:
    node: KafkaConnection
    integrator: str
    password_file: Path


@pytest.fixture(scope="module")
async def federation(
    kafka_admin: KafkaConnection, tmp_path_factory: pytest.TempPathFactory
) -> Federation:
    """One node and one integrator, provisioned as in production (unique names per run)."""
    tag = uuid.uuid4().hex[:6]
    node, integrator = f"n{tag}", f"i{tag}"
    secrets_dir = tmp_path_factory.mktemp("kafka-secrets")
    conns = await provision(
        kafka_admin, [node], secrets_dir, partitions=2, integrators=[integrator]
    )
    return Federation(conns[node], integrator, secrets_dir / f"{integrator}.password")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_database(MIGRATIONS, tmp_path / "enrollment.db") as database:
        yield database


async def publish_through_the_outbox(
    db: Database, kafka: KafkaConnection, node: str, events: list[EnrollmentConfirmed]
) -> list[str]:
    """Stage in one transaction and relay, as a service does; returns the ce_ids."""
    outbox = Outbox(MESSAGING, f"bigschool/{node}/enrollment")
    async with db.transaction() as session:
        ids = [(await outbox.stage(session, e, topic=topics.ENROLLMENT)).id for e in events]
    producer = Producer(kafka, client_id=f"bigschool/{node}/enrollment")
    await producer.start()
    try:
        relay = OutboxRelay(db, MESSAGING, producer)
        while await relay.relay_once():
            pass
    finally:
        await producer.stop()
    return ids


async def send_raw(
    kafka: KafkaConnection, messages: list[tuple[bytes, list[tuple[str, bytes]]]]
) -> None:
    producer = AIOKafkaProducer(**kafka.aiokafka(), enable_idempotence=True)
    await producer.start()
    try:
        for value, headers in messages:
            await producer.send_and_wait(topics.ENROLLMENT, value, key=b"raw", headers=headers)
    finally:
        await producer.stop()


def headers_for(ce_id: str | None, node: str) -> list[tuple[str, bytes]]:
    pairs = {
        "ce_specversion": "1.0",
        "ce_source": f"bigschool/{node}/enrollment",
        "ce_type": EnrollmentConfirmed.ce_type,
        "ce_time": "2026-03-01T08:00:00Z",
        "content-type": "application/json",
    }
    if ce_id is not None:
        pairs["ce_id"] = ce_id
    return [(k, v.encode()) for k, v in pairs.items()]


def run_consumer(federation: Federation) -> subprocess.CompletedProcess[str]:
    node = federation.node
    return subprocess.run(
        [
            sys.executable,
            str(CONSUMER),
            "--bootstrap",
            node.bootstrap_servers,
            "--security-protocol",
            node.security_protocol,
            "--username",
            federation.integrator,
            "--password-file",
            str(federation.password_file),
            "--group",
            f"{federation.integrator}.example",
            "--idle-seconds",
            "6",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def lines_about(output: str, ce_id: str) -> list[str]:
    return [line for line in output.splitlines() if f"id={ce_id}" in line]


async def test_the_example_consumer_validates_reports_and_skips_duplicates(
    federation: Federation, db: Database, kafka_admin: KafkaConnection
) -> None:
    node = federation.node
    assert node.username
    good = await publish_through_the_outbox(
        db, node, node.username, [a_confirmation(f"prog-{i}", "zj-hz") for i in range(3)]
    )
    # A relay resend after a lost acknowledgement: the very same message once more.
    first = next(
        r
        for r in await read_to_end(kafka_admin, topics.ENROLLMENT)
        if r.headers and header_map(r.headers).get("ce_id") == good[0]
    )
    assert first.value is not None
    invalid_id, not_json_id = str(uuid.uuid4()), str(uuid.uuid4())
    await send_raw(
        node,
        [
            (first.value, list(first.headers)),
            (b'{"enrollment_id": 7}', headers_for(invalid_id, node.username)),
            (b"not json at all", headers_for(not_json_id, node.username)),
            (first.value, headers_for(None, node.username)),
        ],
    )

    result = run_consumer(federation)

    assert result.returncode == 0, result.stderr
    out = result.stdout
    for ce_id in good:
        events = [line for line in lines_about(out, ce_id) if line.startswith("EVENT")]
        assert len(events) == 1, lines_about(out, ce_id)
        assert EnrollmentConfirmed.ce_type in events[0]
    assert [line.split()[0] for line in lines_about(out, good[0])] == ["EVENT", "DUPLICATE"]
    invalid = lines_about(out, invalid_id)
    assert len(invalid) == 1 and invalid[0].startswith("REJECTED")
    assert "enrollment_id: 7 is not of type 'string'" in invalid[0]
    assert "'programme_id' is a required property" in invalid[0]
    (not_json,) = lines_about(out, not_json_id)
    assert not_json.startswith("REJECTED") and "not JSON" in not_json
    assert any(line.startswith("REJECTED") and "missing ce_id" in line for line in out.splitlines())
    assert out.splitlines()[-1].startswith("SUMMARY")


async def test_the_integrator_principal_cannot_write(federation: Federation) -> None:
    """Read-only: the principal the guide tells integrators to use is refused a write."""
    from aiokafka.errors import KafkaError

    password = federation.password_file.read_text().strip()
    reader = federation.node.as_user(federation.integrator, password)
    with pytest.raises(KafkaError):
        await send_raw(reader, [(b"{}", headers_for(str(uuid.uuid4()), "x"))])
