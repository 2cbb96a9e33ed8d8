"""Test doubles of the messaging layer, for unit tests of handlers.

They let a test drive ``IdempotentConsumer.process(record)`` record by record, as the Kafka
subscriber would, without a broker: ``record_for`` builds the record of an event, and
``FakeDeadLetters`` keeps what would have gone to ``<topic>.dlq``. Not used by services.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Table, delete, select

from shared.contracts.base import Event
from shared.contracts.envelope import Envelope, envelope_for
from shared.contracts.events import (
    EnrollmentCompleted,
    EnrollmentCompletionRevoked,
    EnrollmentConfirmed,
    OrgRegistered,
    QualityArea,
)
from shared.db import Database
from shared.messaging.consumer import IdempotentConsumer
from shared.messaging.dead_letters import RecordLike
from shared.migrations import upgrade_to_head
from shared.orgs.signing import SIGNATURE_HEADER, NodeSigner, generate_node_key


@dataclass
class FakeRecord:
    """What ``IdempotentConsumer`` reads of an aiokafka ``ConsumerRecord``."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


def record_for(
    event: Event,
    envelope: Envelope,
    *,
    topic: str,
    offset: int = 0,
    value: bytes | None = None,
    signer: NodeSigner | None = None,
    partition: int = 0,
) -> FakeRecord:
    """The record a producer of `event` would have written: the envelope as CloudEvents
    headers, the event's key, and its JSON body — or `value` instead, to test bad input.
    A signed event type is signed with `signer` (the writing node's key), when given."""
    body = event.model_dump_json().encode() if value is None else value
    headers = envelope.headers()
    if signer is not None:
        headers.append((SIGNATURE_HEADER, signer.sign(headers, body).encode()))
    return FakeRecord(topic, partition, offset, event.key().encode(), body, headers)


@dataclass(frozen=True)
class NodeKeys:
    """Signing keys of a test federation's nodes and the JWKS that lists them."""

    folder: Path
    jwks_path: Path

    def signer(self, node: str) -> NodeSigner:
        path, kid = generate_node_key(self.folder, node)
        return NodeSigner.from_pem(path.read_bytes(), kid)

    def key_path(self, node: str) -> Path:
        return generate_node_key(self.folder, node)[0]


def org_writer(event: OrgRegistered, hosts: Mapping[str, str]) -> str:
    """The node with the authority to write `event`: the one hosting the org's parent (the
    top org: its own node). `hosts` maps org ids to their hosting node."""
    return event.hosted_by if event.parent_id is None else hosts[event.parent_id]


def signed_org_record(
    event: OrgRegistered,
    keys: NodeKeys,
    hosts: Mapping[str, str],
    *,
    topic: str,
    at: datetime,
    offset: int = 0,
    writer: str | None = None,
    event_id: str | None = None,
) -> FakeRecord:
    """An `org.registered` as `writer` (default: the node with the authority) publishes it."""
    node = writer or org_writer(event, hosts)
    envelope = envelope_for(event, source=f"bigschool/{node}/enrollment", at=at, event_id=event_id)
    return record_for(event, envelope, topic=topic, offset=offset, signer=keys.signer(node))


def node_keys(folder: Path, nodes: Sequence[str]) -> NodeKeys:
    """Make (or reuse) an Ed25519 key per node in `folder`, and their federation JWKS."""
    for node in nodes:
        generate_node_key(folder, node)
    return NodeKeys(folder, folder / "federation-jwks.json")


@dataclass(frozen=True)
class DeadLetter:
    record: RecordLike
    reason: str
    fields: list[str]


class FakeDeadLetters:
    """A ``DeadLetterSink`` that keeps what would go to ``<topic>.dlq`` in ``sent``."""

    def __init__(self) -> None:
        self.sent: list[DeadLetter] = []

    async def send(self, record: RecordLike, reason: str, fields: Sequence[str] = ()) -> None:
        self.sent.append(DeadLetter(record, reason, list(fields)))


class Staged(NamedTuple):
    """A message a service staged in its outbox: its topic, its `ce_type` and its body."""

    topic: str
    type: str
    body: dict[str, Any]


async def staged(db: Database, outbox: Table) -> list[Staged]:
    """What the service of `db` has staged in its outbox and not relayed yet, in order."""
    async with db.reading() as session:
        rows = (await session.execute(select(outbox).order_by(outbox.c.seq))).all()
    return [
        Staged(r.topic, dict(json.loads(r.headers))["ce_type"], json.loads(r.payload)) for r in rows
    ]


class InProcessRelay:
    """A service's outbox relay and Kafka, in-process: every staged event goes to the
    consumers that read its topic (`readers`: topic → consumer names), until nothing more is
    staged. `run` returns what was delivered: each event's type and key with its body."""

    def __init__(
        self,
        db: Database,
        outbox: Table,
        consumers: Mapping[str, IdempotentConsumer],
        readers: Mapping[str, Sequence[str]],
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.consumers = consumers
        self.readers = readers
        self.offset = 0

    async def run(self) -> list[dict[str, Any]]:
        delivered: list[dict[str, Any]] = []
        table = self.outbox
        while True:
            async with self.db.transaction() as session:
                rows = (await session.execute(select(table).order_by(table.c.seq))).all()
                await session.execute(delete(table))
            if not rows:
                return delivered
            for row in rows:
                self.offset += 1
                headers = [(k, str(v).encode()) for k, v in json.loads(row.headers)]
                record = FakeRecord(
                    row.topic, 0, self.offset, row.key.encode(), row.payload, headers
                )
                event = {"type": dict(json.loads(row.headers))["ce_type"], "key": row.key}
                delivered.append({**event, **json.loads(row.payload)})
                for name in self.readers.get(row.topic, []):
                    await self.consumers[name].process(record)


async def register_members(
    client: Any, token: Callable[..., dict[str, str]], count: int, org: str
) -> list[str]:
    """`count` members of `org`, registered by its cadre through `POST /members` (an
    enrollment service's test client); their ids."""
    ids = []
    for n in range(count):
        body = {"home_org": org, "name": f"Worker {n}", "email": f"w{n}@example.org"}
        response = await client.post("/members", json=body, headers=token(org, "cadre"))
        assert response.status_code == 201, response.text
        ids.append(str(response.json()["member_id"]))
    return ids


def completion(member_id: str, at: datetime, **overrides: Any) -> EnrollmentCompleted:
    """A completion of an 8-hour safety course owned by `hzsteel`, for a member of
    `hzsteel-rolling`, at `at`; `overrides` change any field."""
    fields: dict[str, Any] = {
        "enrollment_id": str(uuid.uuid4()),
        "programme_id": str(uuid.uuid4()),
        "member_id": member_id,
        "owner_org": "hzsteel",
        "home_org": "hzsteel-rolling",
        "completed_at": at,
        "hours": 8.0,
        "quality_area": QualityArea.safety_health,
        "programme_title": "Safe crane operation",
        "programme_kind": "training_course",
        "programme_ends_at": at,
    }
    return EnrollmentCompleted(**(fields | overrides))


def completion_revoked(done: EnrollmentCompleted, at: datetime) -> EnrollmentCompletionRevoked:
    """The revocation of `done`, at `at`."""
    return EnrollmentCompletionRevoked(
        enrollment_id=done.enrollment_id,
        programme_id=done.programme_id,
        member_id=done.member_id,
        owner_org=done.owner_org,
        home_org=done.home_org,
        revoked_at=at,
    )


# -- databases for tests ----------------------------------------------------------------------
SQLITE_PREFIX = "sqlite+aiosqlite:///"
_heads: dict[Path, Path] = {}


async def migrated(migrations_dir: Path, url: str) -> None:
    """Bring a test database to the newest revision. A new SQLite file is a copy of one the
    migrations built once in this process (a copy takes a millisecond, the migrations a
    few hundred); an existing file, or any other database, is migrated."""
    target = _new_sqlite_file(url)
    if target is None:
        await upgrade_to_head(migrations_dir, url)
        return
    head = _heads.get(migrations_dir)
    if head is None:
        head = Path(tempfile.mkdtemp(prefix="bigschool-head-")) / "head.db"
        await upgrade_to_head(migrations_dir, SQLITE_PREFIX + str(head))
        _heads[migrations_dir] = head
    shutil.copyfile(head, target)


def _new_sqlite_file(url: str) -> Path | None:
    if not url.startswith(SQLITE_PREFIX) or ":memory:" in url:
        return None
    target = Path(url.removeprefix(SQLITE_PREFIX))
    return None if target.exists() else target


@asynccontextmanager
async def sqlite_database(migrations_dir: Path, path: Path) -> AsyncIterator[Database]:
    """A service's SQLite database at `path`, at the newest revision, disposed after use."""
    url = SQLITE_PREFIX + str(path)
    await migrated(migrations_dir, url)
    database = Database(url)
    try:
        yield database
    finally:
        await database.dispose()


def a_confirmation(
    programme_id: str = "prog-1", home_org: str = "zj", at: datetime | None = None
) -> EnrollmentConfirmed:
    """An enrollment confirmed now (or `at`) for a new member: an event to carry around."""
    return EnrollmentConfirmed(
        enrollment_id=str(uuid.uuid4()),
        programme_id=programme_id,
        member_id=str(uuid.uuid4()),
        owner_org="zj",
        home_org=home_org,
        decided_at=at or datetime.now(UTC),
        sequence=1,
    )
