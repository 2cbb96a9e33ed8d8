"""Unit fixtures: a migrated temp SQLite database, the real app without its lifespan (no
Kafka), its consumers driven record by record, and tokens from throwaway keys.

Helpers reach tests as fixtures: with `--import-mode=importlib` a test cannot import conftest.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, select

from awards.app import MIGRATIONS, create_app
from awards.models import MESSAGING
from awards.models.nominations import Dossier, Nomination
from awards.models.schemes import Round, Scheme, SchemeStaff
from awards.settings import AwardsSettings
from shared.auth.keys import generate_keys, kid_of
from shared.auth.tokens import issue_token
from shared.clock import FixedClock
from shared.contracts import topics
from shared.contracts.base import Event
from shared.contracts.envelope import Envelope, envelope_for, header_map, parse
from shared.contracts.events import (
    EnrollmentCompleted,
    EnrollmentConfirmed,
    MemberRegistered,
    OrgLevel,
    OrgRegistered,
    QualityArea,
)
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


def _completed(
    member_id: str,
    home_org: str = "hzsteel-rolling",
    *,
    owner_org: str = "hzsteel",
    hours: float = 8.0,
    quality_area: QualityArea = QualityArea.safety_health,
    completed_at: datetime = NOW,
    rank: int | None = None,
    score: float | None = None,
    enrollment_id: str | None = None,
    programme_kind: str = "training_course",
) -> EnrollmentCompleted:
    return EnrollmentCompleted(
        enrollment_id=enrollment_id or str(uuid.uuid4()),
        programme_id=str(uuid.uuid4()),
        member_id=member_id,
        owner_org=owner_org,
        home_org=home_org,
        completed_at=completed_at,
        hours=hours,
        quality_area=quality_area,
        programme_title="Safe crane operation",
        programme_kind=programme_kind,
        programme_ends_at=completed_at,
        score=score,
        rank=rank,
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
    sub: str | None = None,
    node: str = NODE,
    now: datetime | None = None,
    ttl: timedelta = timedelta(hours=1),
) -> str:
    return issue_token(
        keys.private_pem,
        kid=keys.kid,
        issuer="bigschool-federation",
        node=node,
        sub=sub or member_id or f"{org}-{'-'.join(roles)}",
        org=org,
        roles=list(roles),
        member_id=member_id,
        ttl=ttl,
        now=now,
    )


@pytest.fixture(scope="session")
def federation_keys(tmp_path_factory: pytest.TempPathFactory) -> NodeKeys:
    return node_keys(tmp_path_factory.mktemp("node-keys"), sorted(set(HOSTS.values())))


AppOn = Callable[..., Awaitable[FastAPI]]


@pytest.fixture
async def awards_app_on(keys: Keys, federation_keys: NodeKeys) -> AsyncIterator[AppOn]:
    """`await awards_app_on(url, *, node_id, root_org, clock)`: a node's app (default: node
    hzsteel at NOW) on the database at `url`, migrated, disposed after the test. SQLite for
    the unit tests, PostgreSQL for the integration ones (tests/integration/conftest.py)."""
    made: list[FastAPI] = []

    async def make(
        url: str, *, node_id: str = NODE, root_org: str = "hzsteel", clock: FixedClock | None = None
    ) -> FastAPI:
        await migrated(MIGRATIONS, url)
        settings = AwardsSettings(
            node_id=node_id,
            root_org=root_org,
            database_url=url,
            jwt_jwks_path=keys.jwks,
            federation_jwks_path=federation_keys.jwks_path,
            migrate_on_start=False,
        )
        # create_app wires everything; its lifespan (Kafka, relay) is never started here.
        made.append(create_app(settings, clock or FixedClock(NOW)))
        return made[-1]

    yield make
    for application in made:
        await application.state.runtime.db.dispose()


@pytest.fixture
async def app(tmp_path: Path, awards_app_on: AppOn) -> FastAPI:
    return await awards_app_on(f"sqlite+aiosqlite:///{tmp_path / 'awards.db'}")


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


Completed = Callable[..., EnrollmentCompleted]


@pytest.fixture
def completed() -> Completed:
    """`completed(member_id, home_org="hzsteel-rolling", *, owner_org, hours, quality_area,
    completed_at, rank, score, enrollment_id, programme_kind)`."""
    return _completed


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


STUCK = (Outcome.dead_lettered, Outcome.retry_later, Outcome.held)


@dataclass
class AwardsNode:
    """One node's awards service: its app, HTTP client and consumers (fed by `Federation`)."""

    node_id: str
    app: FastAPI
    client: httpx.AsyncClient
    consumers: dict[str, IdempotentConsumer]
    clock: FixedClock


@dataclass
class Federation:
    """Several nodes' awards services over one in-process 'broker': `flush()` relays every
    node's outbox to the consumers of every node that read the topic (an inbox topic is read
    by its node only; the `bigschool_orgs` filter decides the rest), until all is quiet."""

    nodes: dict[str, AwardsNode]
    offset: int = 0

    def __getitem__(self, node_id: str) -> AwardsNode:
        return self.nodes[node_id]

    async def flush(self) -> list[dict[str, Any]]:
        delivered: list[dict[str, Any]] = []
        while True:
            batch = []
            for node in self.nodes.values():
                db = node.app.state.runtime.db
                async with db.transaction() as session:
                    table = MESSAGING.outbox
                    rows = (await session.execute(select(table).order_by(table.c.seq))).all()
                    await session.execute(delete(table))
                batch += rows
            if not batch:
                return delivered
            for row in batch:
                self.offset += 1
                headers = [(k, str(v).encode()) for k, v in json.loads(row.headers)]
                record = FakeRecord(
                    row.topic, 0, self.offset, row.key.encode(), row.payload, headers
                )
                delivered.append(
                    {"type": dict(json.loads(row.headers))["ce_type"], "topic": row.topic}
                )
                for node in self.nodes.values():
                    for consumer in node.consumers.values():
                        if row.topic in consumer.spec.topics:
                            outcome = await consumer.process(record)
                            assert outcome not in STUCK, (node.node_id, row.topic, outcome)

    def move_clock(self, to: datetime) -> None:
        for node in self.nodes.values():
            node.clock.at = to


@pytest.fixture
async def federation(
    tmp_path: Path, federation_keys: NodeKeys, awards_app_on: AppOn
) -> AsyncIterator[Federation]:
    """The awards services of nodes zj (root zj), hzsteel (root hzsteel) and oc (root
    otherco), each with its own database and the org tree loaded."""
    nodes: dict[str, AwardsNode] = {}
    for node_id, root in (("zj", "zj"), ("hzsteel", "hzsteel"), ("oc", "otherco")):
        url = f"sqlite+aiosqlite:///{tmp_path / f'awards-{node_id}.db'}"
        clock = FixedClock(NOW)
        application = await awards_app_on(url, node_id=node_id, root_org=root, clock=clock)
        runtime = application.state.runtime
        consumers = {
            c.spec.name: IdempotentConsumer(
                c.spec,
                runtime.db,
                MESSAGING,
                FakeDeadLetters(),
                clock=clock,
                hold_seconds=0.3,
                signatures=runtime.signatures,
            )
            for c in runtime.consumers
        }
        for offset, org in enumerate(ORG_TREE):
            record = signed_org_record(
                org, federation_keys, HOSTS, topic=topics.FEDERATION, at=NOW, offset=offset
            )
            assert await consumers["org_tree"].process(record) is Outcome.handled
        transport = httpx.ASGITransport(app=application)
        http = httpx.AsyncClient(transport=transport, base_url=f"http://awards.{node_id}.test")
        nodes[node_id] = AwardsNode(node_id, application, http, consumers, clock)
    yield Federation(nodes)
    for node in nodes.values():
        await node.client.aclose()


@dataclass
class AwardRows:
    """Schemes, rounds and nominations written straight into a node's tables, at the state a
    test needs (the steps before it are other tests' business). Owner: hzsteel, hosted here."""

    app: FastAPI

    async def scheme(
        self,
        *,
        kind: str = "model_worker",
        cash_fen: int = 500_000,
        budget_fen: int = 10_000_000,
        stipend: dict[str, int] | None = None,
        round_status: str = "closed",
        staff: Sequence[tuple[str, str]] = (("rev-a", "reviewer"),),
    ) -> tuple[str, str]:
        """A scheme of hzsteel with one cash benefit and one round; returns their ids."""
        scheme_id, round_id = str(uuid.uuid4()), str(uuid.uuid4())
        scheme = Scheme(
            scheme_id=scheme_id, owner_org="hzsteel", owned_here=True, kind=kind,
            title="HZ Steel model worker", description="", nominee="member", criteria={},
            endorse_levels=[], quotas=[], veto_departments=[], notice_days=7,
            benefits=[{"kind": "cash", "amount_fen": cash_fen, "detail": ""},
                      {"kind": "recuperation_leave", "amount_fen": 0, "detail": ""}],
            budget_fen=budget_fen, committed_fen=0, paid_fen=0, stipend=stipend,
            min_reviews=1, version=1, published_at=NOW,
        )  # fmt: skip
        round_ = Round(
            round_id=round_id, scheme_id=scheme_id, owner_org="hzsteel", name="2025",
            year=2025, status=round_status, opens_at=NOW - timedelta(days=60),
            deadline=NOW - timedelta(days=30), changed_at=NOW - timedelta(days=30),
        )  # fmt: skip
        people = [
            SchemeStaff(scheme_id=scheme_id, sub=sub, role=role, org_id="zj") for sub, role in staff
        ]
        async with self.app.state.runtime.db.transaction() as session:
            session.add_all([scheme, round_, *people])
        return scheme_id, round_id

    async def nomination(
        self,
        scheme_id: str,
        round_id: str,
        *,
        status: str = "on_notice",
        notice_ends_at: datetime | None = NOW - timedelta(days=1),
        open_objections: int = 0,
        member_id: str | None = None,
        home_org: str = "hzsteel-rolling",
    ) -> tuple[str, str]:
        """A member's nomination of that round with a dossier; returns (nomination, member)."""
        nomination_id, member_id = str(uuid.uuid4()), member_id or str(uuid.uuid4())
        row = Nomination(
            nomination_id=nomination_id, scheme_id=scheme_id, round_id=round_id,
            owner_org="hzsteel", home_org=home_org, nominee="member", member_ids=[member_id],
            team_name=None, stages=[], status=status, stage_index=0, version=1,
            open_objections=open_objections, notice_ends_at=notice_ends_at, step=4,
            updated_at=NOW, amount_fen=0,
        )  # fmt: skip
        dossier = Dossier(
            nomination_id=nomination_id, version=1, team_name=None, cited_facts=[],
            nominees=[{"member_id": member_id, "display_name": "王芳"}],
            achievements="Cut the scrap rate by a third.", training_hours=130, received_at=NOW,
        )  # fmt: skip
        async with self.app.state.runtime.db.transaction() as session:
            session.add_all([row, dossier])
        return nomination_id, member_id


@pytest.fixture
def award_rows(app: FastAPI, bus: Bus) -> AwardRows:
    """`await award_rows.scheme(...)`, `await award_rows.nomination(scheme_id, round_id, ...)`:
    rows at node hzsteel (the org tree loaded), for decisions, publication and stipends."""
    return AwardRows(app)


@pytest.fixture
def award_rows_of() -> Callable[[FastAPI], AwardRows]:
    """`award_rows_of(app)`: the same for an app of the test's own (e.g. on PostgreSQL)."""
    return AwardRows


HeadersAt = Callable[..., dict[str, str]]


@pytest.fixture
def at(make_token: TokenFactory) -> HeadersAt:
    """`at(node, org, *roles, sub=None, member_id=None)`: headers of a token for that node."""

    def headers(
        node: str, org: str, *roles: str, sub: str | None = None, member_id: str | None = None
    ) -> dict[str, str]:
        token = make_token(org=org, roles=list(roles), node=node, sub=sub, member_id=member_id)
        return {"Authorization": f"Bearer {token}"}

    return headers


def scheme_body(**overrides: Any) -> dict[str, Any]:
    """A model-worker scheme of zj: the enterprise endorses; 120 training hours; hzsteel may
    send one nomination; the discipline department checks; three reviewers, two needed."""
    body: dict[str, Any] = {
        "kind": "model_worker",
        "title": "Zhejiang model worker 2025",
        "criteria": {"min_training_hours": 120},
        "endorse_levels": ["enterprise"],
        "quotas": [{"org_id": "hzsteel", "nominations": 1}],
        "veto_departments": [{"department": "discipline", "officer": "di-officer"}],
        "reviewers": [
            {"sub": "rev-a", "org_id": "zj"},
            {"sub": "rev-b", "org_id": "otherco"},
            {"sub": "rev-c", "org_id": "hzsteel"},
        ],
        "min_reviews": 2,
        "benefits": [{"kind": "cash", "amount_fen": 500_000}],
        "budget_fen": 10_000_000,
    }
    return body | overrides


@dataclass
class NominationKit:
    """Steps the nomination tests repeat, over the `federation` fixture."""

    federation: Federation
    at: HeadersAt

    async def scheme_and_round(self, **overrides: Any) -> tuple[str, str]:
        zj = self.federation["zj"].client
        cadre = self.at("zj", "zj", "cadre")
        created = await zj.post("/schemes", json=scheme_body(**overrides), headers=cadre)
        assert created.status_code == 201, created.text
        scheme_id = created.json()["scheme_id"]
        deadline = (NOW + timedelta(days=30)).isoformat()
        body = {"name": "2025", "year": 2025, "deadline": deadline}
        opened = await zj.post(f"/schemes/{scheme_id}/rounds", json=body, headers=cadre)
        assert opened.status_code == 201, opened.text
        await self.federation.flush()
        return scheme_id, opened.json()["round_id"]

    async def member(self, home_org: str = "hzsteel-rolling", hours: float = 130.0) -> str:
        """A member of `home_org` at node hzsteel with `hours` of training completed."""
        node = self.federation["hzsteel"]
        member_id = str(uuid.uuid4())
        joined = MemberRegistered(
            member_id=member_id, home_org=home_org, name="王芳", email="wangfang@example.com"
        )
        completed = EnrollmentCompleted(
            enrollment_id=str(uuid.uuid4()),
            programme_id=str(uuid.uuid4()),
            member_id=member_id,
            owner_org="zj",
            home_org=home_org,
            completed_at=NOW - timedelta(days=30),
            hours=hours,
            quality_area=QualityArea.technical_skills,
            programme_title="Advanced welding",
            programme_kind="training_course",
            programme_ends_at=NOW - timedelta(days=30),
        )
        for event, topic, handler, source in (
            (joined, topics.members("hzsteel"), "members", "hzsteel"),
            (completed, topics.ENROLLMENT, "enrollment_facts", "zj"),
        ):
            env = envelope_for(event, source=f"bigschool/{source}/enrollment", at=NOW)
            self.federation.offset += 1
            record = record_for(event, env, topic=topic, offset=self.federation.offset)
            assert await node.consumers[handler].process(record) is Outcome.handled
        return member_id

    async def file(
        self, scheme_id: str, round_id: str, member_id: str, org: str = "hzsteel-rolling"
    ) -> httpx.Response:
        body = {
            "scheme_id": scheme_id,
            "round_id": round_id,
            "member_ids": [member_id],
            "achievements": "Cut the mill's scrap rate by a third.\nTrained twelve apprentices.",
        }
        headers = self.at("hzsteel", org, "cadre")
        return await self.federation["hzsteel"].client.post(
            "/nominations", json=body, headers=headers
        )


@pytest.fixture
def kit(federation: Federation, at: HeadersAt) -> NominationKit:
    return NominationKit(federation, at)
