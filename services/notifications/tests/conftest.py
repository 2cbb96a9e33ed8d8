"""A notifications service of node `n1` on a migrated temporary SQLite file, built by the real
`create_app`, with its consumers fed fake Kafka records and its dispatcher driven by hand.

The demo tree: `fed` > `steel` > `steel-rolling` are hosted by n1; `mine` > `mine-shaft` by n2.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from deploy.local.smtp import SmtpSink
from notifications.app import MIGRATIONS, create_app
from notifications.consumers import consumer_specs
from notifications.models import MESSAGING, Delivery, DeliveryAttempt, InboxItem
from notifications.settings import NotificationsSettings
from shared.auth.keys import generate_keys, kid_of
from shared.auth.tokens import issue_token
from shared.clock import FixedClock
from shared.contracts.base import Event
from shared.contracts.envelope import envelope_for
from shared.contracts.events import (
    EnrollmentConfirmed,
    EnrollmentRefused,
    EnrollmentWaitlisted,
    MemberRegistered,
    OrgLevel,
    OrgRegistered,
)
from shared.contracts.topics import FEDERATION
from shared.messaging.consumer import IdempotentConsumer, Outcome
from shared.testing import (
    FakeDeadLetters,
    FakeRecord,
    NodeKeys,
    migrated,
    node_keys,
    record_for,
    signed_org_record,
)

NODE = "n1"
START = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)
ORGS = [
    ("fed", None, OrgLevel.superior, NODE),
    ("steel", "fed", OrgLevel.enterprise, NODE),
    ("steel-rolling", "steel", OrgLevel.grassroots, NODE),
    ("mine", "fed", OrgLevel.enterprise, "n2"),
    ("mine-shaft", "mine", OrgLevel.grassroots, "n2"),
]
Decision = EnrollmentConfirmed | EnrollmentWaitlisted | EnrollmentRefused


def decision(member_id: str, kind: type[Decision] = EnrollmentConfirmed, **fields: Any) -> Event:
    values: dict[str, Any] = {
        "enrollment_id": str(uuid.uuid4()),
        "programme_id": str(uuid.uuid4()),
        "member_id": member_id,
        "owner_org": "steel",
        "home_org": "steel-rolling",
        "decided_at": START,
    }
    if kind is EnrollmentRefused:
        values["reason"] = "closed"
    else:
        values.update(sequence=1, programme_title="Safe crane operation")
    if kind is EnrollmentConfirmed:
        values["hours"] = 12
    return kind(**{**values, **fields})


class MovableClock(FixedClock):
    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


class Node:
    """One notifications service as `create_app` wires it, minus Kafka."""

    def __init__(
        self, settings: NotificationsSettings, clock: MovableClock, node_keys: NodeKeys
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.node_keys = node_keys
        self.app = create_app(settings, clock)
        self.db = self.app.state.runtime.db
        self.ctx = self.app.state.context
        self.dispatcher = self.app.state.dispatcher
        self.dead_letters = FakeDeadLetters()
        self.consumers = {
            spec.name: IdempotentConsumer(
                spec,
                self.db,
                MESSAGING,
                self.dead_letters,
                clock=clock,
                hold_seconds=0.3,
                signatures=self.app.state.runtime.signatures,
            )
            for spec in consumer_specs(self.ctx)
        }
        self._offset = 0

    decision = staticmethod(decision)

    def record(self, consumer: str, event: Event, event_id: str | None = None) -> FakeRecord:
        envelope = envelope_for(
            event, source="bigschool/n1/test", at=self.clock.now(), event_id=event_id
        )
        self._offset += 1
        topic = self.consumers[consumer].spec.topics[0]
        return record_for(event, envelope, topic=topic, offset=self._offset)

    async def feed(self, consumer: str, event: Event, event_id: str | None = None) -> Outcome:
        return await self.consumers[consumer].process(self.record(consumer, event, event_id))

    async def register_orgs(self) -> None:
        hosts = {org_id: host for org_id, _, _, host in ORGS}
        for org_id, parent, level, host in ORGS:
            event = OrgRegistered(
                org_id=org_id, name=org_id.title(), parent_id=parent, level=level, hosted_by=host
            )
            self._offset += 1
            record = signed_org_record(
                event,
                self.node_keys,
                hosts,
                topic=FEDERATION,
                at=self.clock.now(),
                offset=self._offset,
            )
            assert await self.consumers["org_tree"].process(record) is Outcome.handled

    async def add_member(self, **fields: Any) -> MemberRegistered:
        values: dict[str, Any] = {
            "member_id": str(uuid.uuid4()),
            "home_org": "steel-rolling",
            "name": "Wang Fang",
            "email": "wang.fang@example.org",
            "language": "zh",
        }
        member = MemberRegistered(**{**values, **fields})
        assert await self.feed("recipients", member) is Outcome.handled
        return member

    async def decide(
        self, member_id: str, kind: type[Decision] = EnrollmentConfirmed, **fields: Any
    ) -> str:
        """Feed a decision about `member_id` to the enrollment_events consumer; its ce_id."""
        event_id = str(uuid.uuid4())
        assert await self.feed("enrollment_events", decision(member_id, kind, **fields), event_id)
        return event_id

    async def deliveries(self, member_id: str | None = None) -> list[Delivery]:
        stmt = select(Delivery).order_by(Delivery.channel)
        if member_id:
            stmt = stmt.where(Delivery.member_id == member_id)
        async with self.db.sessions() as session:
            return list((await session.execute(stmt)).scalars())

    async def delivery(self, member_id: str, channel: str) -> Delivery:
        return next(d for d in await self.deliveries(member_id) if d.channel == channel)

    async def attempts(self, delivery_id: str) -> list[DeliveryAttempt]:
        stmt = select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id)
        async with self.db.sessions() as session:
            return list((await session.execute(stmt.order_by(DeliveryAttempt.attempt))).scalars())

    async def inbox(self, member_id: str) -> list[InboxItem]:
        stmt = select(InboxItem).where(InboxItem.member_id == member_id)
        async with self.db.sessions() as session:
            return list((await session.execute(stmt)).scalars())

    def token(self, *, org: str, roles: list[str], member_id: str | None = None) -> str:
        keys: Keys = self.app.state.test_keys
        return issue_token(
            keys.private_pem,
            kid=keys.kid,
            issuer=self.settings.jwt_issuer,
            node=NODE,
            sub=member_id or f"staff-{org}",
            org=org,
            roles=roles,
            member_id=member_id,
        )


@dataclass(frozen=True)
class Keys:
    private_pem: bytes
    jwks_path: Path
    kid: str


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    private, jwks = generate_keys(tmp_path_factory.mktemp("keys"))
    return Keys(private.read_bytes(), jwks, kid_of(jwks))


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(START)


NodeFactory = Callable[..., Awaitable[Node]]


@pytest.fixture(scope="session")
def federation_keys(tmp_path_factory: pytest.TempPathFactory) -> NodeKeys:
    return node_keys(tmp_path_factory.mktemp("node-keys"), sorted({h for *_, h in ORGS}))


@pytest.fixture
async def make_node(
    tmp_path: Path, clock: MovableClock, keys: Keys, federation_keys: NodeKeys
) -> AsyncIterator[NodeFactory]:
    """Build a node whose database is migrated and whose org tree is replicated."""
    nodes: list[Node] = []

    async def build(**overrides: Any) -> Node:
        default_url = f"sqlite+aiosqlite:///{tmp_path / f'notifications-{len(nodes)}.db'}"
        url = overrides.pop("database_url", default_url)
        await migrated(MIGRATIONS, url)
        values: dict[str, Any] = {
            "node_id": NODE,
            "root_org": "fed",
            "database_url": url,
            "migrate_on_start": False,
            "jwt_jwks_path": keys.jwks_path,
            "federation_jwks_path": federation_keys.jwks_path,
            "dispatch_poll_seconds": 0.05,
            "max_attempts": 4,
        }
        node = Node(NotificationsSettings(**{**values, **overrides}), clock, federation_keys)
        node.app.state.test_keys = keys
        nodes.append(node)
        await node.register_orgs()
        return node

    yield build
    for node in nodes:
        await node.dispatcher.mailer.close()  # its pooled SMTP connections
        await node.db.dispose()


@pytest.fixture
async def node(make_node: NodeFactory, smtp_sink: SmtpSink) -> Node:
    """A node whose e-mail goes to a running SMTP sink (`smtp_sink`: the repository's root
    conftest, tests/fixtures.py)."""
    return await make_node(smtp_port=smtp_sink.port)
