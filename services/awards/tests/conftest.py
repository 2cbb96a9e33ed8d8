"""Unit fixtures: a migrated temp SQLite database, the real app without its lifespan (no
Kafka), its consumers driven record by record, and tokens from throwaway keys.

Helpers reach tests as fixtures: with `--import-mode=importlib` a test cannot import conftest.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from awards.app import MIGRATIONS, create_app
from awards.models import MESSAGING
from awards.settings import AwardsSettings
from shared.auth.keys import generate_keys, kid_of
from shared.auth.tokens import issue_token
from shared.clock import FixedClock
from shared.contracts import topics
from shared.contracts.base import Event
from shared.contracts.envelope import Envelope, envelope_for, header_map, parse
from shared.contracts.events import EnrollmentConfirmed, OrgLevel, OrgRegistered
from shared.messaging.consumer import IdempotentConsumer, Outcome
from shared.migrations import upgrade_to_head
from shared.testing import (
    FakeDeadLetters,
    FakeRecord,
    NodeKeys,
    node_keys,
    record_for,
    signed_org_record,
)

NODE = "hzsteel"
NOW = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)

# zj (node zj) > hzsteel (this node) > rolling, casting; zj > otherco (node other) > line.
ORG_TREE = [
    OrgRegistered(org_id="zj", name="ZJ", level=OrgLevel.superior, hosted_by="zj"),
    OrgRegistered(
        org_id="hzsteel", name="HZ Steel", parent_id="zj", level=OrgLevel.enterprise, hosted_by=NODE
    ),
    OrgRegistered(
        org_id="hzsteel-rolling",
        name="Rolling",
        parent_id="hzsteel",
        level=OrgLevel.grassroots,
        hosted_by=NODE,
    ),
    OrgRegistered(
        org_id="hzsteel-casting",
        name="Casting",
        parent_id="hzsteel",
        level=OrgLevel.grassroots,
        hosted_by=NODE,
    ),
    OrgRegistered(
        org_id="otherco", name="Other Co", parent_id="zj", level=OrgLevel.enterprise, hosted_by="oc"
    ),
    OrgRegistered(
        org_id="otherco-line",
        name="Line",
        parent_id="otherco",
        level=OrgLevel.grassroots,
        hosted_by="oc",
    ),
]


def _confirmed(
    member_id: str,
    home_org: str = "hzsteel-rolling",
    *,
    owner_org: str = "hzsteel",
    hours: float = 8.0,
    decided_at: datetime = NOW,
) -> EnrollmentConfirmed:
    return EnrollmentConfirmed(
        enrollment_id=str(uuid.uuid4()),
        programme_id=str(uuid.uuid4()),
        member_id=member_id,
        owner_org=owner_org,
        home_org=home_org,
        decided_at=decided_at,
        sequence=1,
        programme_title="Safe crane operation",
        hours=hours,
    )


HOSTS = {org.org_id: org.hosted_by for org in ORG_TREE}


@dataclass
class Bus:
    """Feeds records to the app's consumers as the Kafka subscriber would."""

    consumers: dict[str, IdempotentConsumer]
    dead_letters: FakeDeadLetters
    node_keys: NodeKeys
    offsets: dict[str, int] = field(default_factory=dict)

    def record(
        self,
        event: Event,
        topic: str,
        *,
        envelope: Envelope | None = None,
        value: bytes | None = None,
    ) -> tuple[FakeRecord, Envelope]:
        offset = self.offsets.get(topic, 0)
        self.offsets[topic] = offset + 1
        if isinstance(event, OrgRegistered) and envelope is None and value is None:
            hosts = HOSTS | {event.org_id: event.hosted_by}
            record = signed_org_record(
                event, self.node_keys, hosts, topic=topic, at=NOW, offset=offset
            )
            return record, parse(header_map(record.headers))
        env = envelope or envelope_for(event, source="bigschool/zj/enrollment", at=NOW)
        return record_for(event, env, topic=topic, offset=offset, value=value), env

    async def deliver(self, handler: str, record: FakeRecord) -> Outcome:
        return await self.consumers[handler].process(record)

    async def publish(self, event: Event) -> tuple[Outcome, Envelope]:
        """An event on the topic its type lives on, to the consumer that reads it."""
        handler, topic = (
            ("org_tree", topics.FEDERATION)
            if isinstance(event, OrgRegistered)
            else ("enrollment_facts", topics.ENROLLMENT)
        )
        record, env = self.record(event, topic)
        return await self.deliver(handler, record), env

    @staticmethod
    def retyped(env: Envelope, ce_type: str) -> Envelope:
        return replace(env, type=ce_type)


@dataclass(frozen=True)
class Keys:
    private_pem: bytes
    kid: str
    jwks: Path


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    private, jwks = generate_keys(tmp_path_factory.mktemp("keys"))
    return Keys(private.read_bytes(), kid_of(jwks), jwks)


@pytest.fixture(scope="session")
def other_keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    """Same kid, another key: what a forger would sign with."""
    private, jwks = generate_keys(tmp_path_factory.mktemp("forged"))
    return Keys(private.read_bytes(), kid_of(jwks), jwks)


def _token(
    keys: Keys,
    *,
    org: str,
    roles: Sequence[str],
    member_id: str | None = None,
    node: str = NODE,
    now: datetime | None = None,
    ttl: timedelta = timedelta(hours=1),
) -> str:
    return issue_token(
        keys.private_pem,
        kid=keys.kid,
        issuer="bigschool-federation",
        node=node,
        sub=member_id or f"{org}-{'-'.join(roles)}",
        org=org,
        roles=list(roles),
        member_id=member_id,
        ttl=ttl,
        now=now,
    )


@pytest.fixture(scope="session")
def federation_keys(tmp_path_factory: pytest.TempPathFactory) -> NodeKeys:
    return node_keys(tmp_path_factory.mktemp("node-keys"), sorted(set(HOSTS.values())))


@pytest.fixture
async def app(tmp_path: Path, keys: Keys, federation_keys: NodeKeys) -> AsyncIterator[FastAPI]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'awards.db'}"
    await upgrade_to_head(MIGRATIONS, url)
    settings = AwardsSettings(
        node_id=NODE,
        root_org="hzsteel",
        database_url=url,
        jwt_jwks_path=keys.jwks,
        federation_jwks_path=federation_keys.jwks_path,
        migrate_on_start=False,
    )
    # create_app wires everything; its lifespan (Kafka, relay) is never started here.
    application = create_app(settings, FixedClock(NOW))
    yield application
    await application.state.runtime.db.dispose()


@pytest.fixture
async def bus(app: FastAPI, federation_keys: NodeKeys) -> Bus:
    """The app's own consumer specs, with dead letters kept in memory; the org tree loaded."""
    runtime = app.state.runtime
    dead_letters = FakeDeadLetters()
    consumers = {
        c.spec.name: IdempotentConsumer(
            c.spec,
            runtime.db,
            MESSAGING,
            dead_letters,
            clock=FixedClock(NOW),
            hold_seconds=0.3,
            signatures=runtime.signatures,
        )
        for c in runtime.consumers
    }
    bus = Bus(consumers, dead_letters, federation_keys)
    for org in ORG_TREE:
        outcome, _ = await bus.publish(org)
        assert outcome is Outcome.handled
    return bus


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://awards.test") as http:
        yield http


Confirmed = Callable[..., EnrollmentConfirmed]
TokenFactory = Callable[..., str]
AuthFactory = Callable[..., dict[str, str]]


@pytest.fixture
def confirmed() -> Confirmed:
    """`confirmed(member_id, home_org="hzsteel-rolling", *, owner_org, hours, decided_at)`."""
    return _confirmed


@pytest.fixture
def make_token(keys: Keys) -> TokenFactory:
    """`make_token(org=, roles=, member_id=None, keys=…, node=…, now=…, ttl=…)`: a raw JWT."""

    def make(*, keys: Keys = keys, **claims: Any) -> str:
        return _token(keys, **claims)

    return make


@pytest.fixture
def auth(make_token: TokenFactory) -> AuthFactory:
    """`auth(org=, roles=, member_id=None)`: an Authorization header for this node."""

    def headers(**claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(**claims)}"}

    return headers
