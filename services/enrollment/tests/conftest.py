"""Fixtures of the enrollment service's own tests.

Every test gets a fresh SQLite database migrated with the service's Alembic migrations (no
`create_all`), an app built by ``create_app`` whose lifespan is never run (no Kafka), and
tokens signed with a key pair made once per session. The org tree is a small federation:

    cn (superior, node cn)
    ├── zj (superior, node zj = this node's root)
    │   └── zj-hz (superior)
    │       └── hzsteel (enterprise)
    │           ├── hzsteel-rolling (grassroots)
    │           └── hzsteel-casting (grassroots)
    └── js (superior, node js)
        └── js-nj (grassroots, node js)
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from enrollment.app import MIGRATIONS, create_app
from enrollment.models import MESSAGING, ORGS
from enrollment.service.context import Context
from enrollment.settings import EnrollmentSettings
from shared.auth.keys import generate_keys
from shared.auth.tokens import issue_token
from shared.clock import Clock
from shared.contracts import topics
from shared.contracts.events import OrgLevel
from shared.db import Database
from shared.messaging.outbox import Outbox
from shared.orgs.authority import Org
from shared.orgs.directory import OrgDirectory
from shared.testing import InProcessRelay, NodeKeys, migrated, node_keys

NODE = "zj"
ROOT = "zj"
ISSUER = "bigschool-federation"

# (org_id, parent_id, level, hosted_by)
OrgRow = tuple[str, str | None, OrgLevel, str]
# Orgs other nodes host, known here by replication.
REPLICA: list[OrgRow] = [
    ("cn", None, OrgLevel.superior, "cn"),
    ("js", "cn", OrgLevel.superior, "js"),
    ("js-nj", "js", OrgLevel.grassroots, "js"),
]
# The subtree this node hosts.
LOCAL: list[OrgRow] = [
    ("zj", "cn", OrgLevel.superior, NODE),
    ("zj-hz", "zj", OrgLevel.superior, NODE),
    ("hzsteel", "zj-hz", OrgLevel.enterprise, NODE),
    ("hzsteel-rolling", "hzsteel", OrgLevel.grassroots, NODE),
    ("hzsteel-casting", "hzsteel", OrgLevel.grassroots, NODE),
]


@dataclass(frozen=True)
class SigningKeys:
    private_pem: bytes
    jwks_path: Path
    kid: str


@dataclass(frozen=True)
class OutboxRow:
    topic: str
    key: str
    headers: dict[str, str]
    payload: dict[str, Any]
    raw_headers: str
    raw_payload: str

    @property
    def type(self) -> str:
        return self.headers["ce_type"]


@dataclass(frozen=True)
class Service:
    """One enrollment service of node `zj`, built but not started."""

    app: FastAPI
    ctx: Context
    db: Database
    client: httpx.AsyncClient


TokenFactory = Callable[..., dict[str, str]]
OutboxReader = Callable[[Database], Awaitable[list[OutboxRow]]]
OrgSeeder = Callable[..., Awaitable[None]]
ContextFactory = Callable[..., tuple[Context, Database]]


@pytest.fixture(scope="session")
def signing_keys(tmp_path_factory: pytest.TempPathFactory) -> SigningKeys:
    private, jwks = generate_keys(tmp_path_factory.mktemp("keys"))
    return SigningKeys(private.read_bytes(), jwks, "demo-1")


@pytest.fixture
def token(signing_keys: SigningKeys) -> TokenFactory:
    """``token(org, *roles, member_id=None, ...)`` → an Authorization header for node zj."""

    def make(
        org: str,
        *roles: str,
        member_id: str | None = None,
        sub: str = "someone",
        node: str = NODE,
        ttl: timedelta = timedelta(hours=1),
        now: datetime | None = None,
        private_pem: bytes | None = None,
    ) -> dict[str, str]:
        jwt = issue_token(
            private_pem or signing_keys.private_pem,
            kid=signing_keys.kid,
            issuer=ISSUER,
            node=node,
            sub=sub,
            org=org,
            roles=list(roles),
            member_id=member_id,
            ttl=ttl,
            now=now,
        )
        return {"Authorization": f"Bearer {jwt}"}

    return make


@pytest.fixture
async def database_url(tmp_path: Path) -> str:
    """A fresh SQLite file brought to head by the service's migrations."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'enrollment.db'}"
    await migrated(MIGRATIONS, url)
    return url


@pytest.fixture(scope="session")
def federation_keys(tmp_path_factory: pytest.TempPathFactory) -> NodeKeys:
    """Every node's org-tree signing key, and the federation's JWKS of them."""
    return node_keys(tmp_path_factory.mktemp("node-keys"), ["cn", "js", NODE])


@pytest.fixture
def settings(
    database_url: str, signing_keys: SigningKeys, federation_keys: NodeKeys
) -> EnrollmentSettings:
    return EnrollmentSettings(
        node_id=NODE,
        root_org=ROOT,
        database_url=database_url,
        jwt_issuer=ISSUER,
        jwt_jwks_path=signing_keys.jwks_path,
        federation_jwks_path=federation_keys.jwks_path,
        node_key_path=federation_keys.key_path(NODE),
        migrate_on_start=False,
    )


@pytest.fixture
async def service(settings: EnrollmentSettings) -> AsyncIterator[Service]:
    """The app without its lifespan: no Kafka, no relay; requests go through ASGI in-process."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://zj.test") as client:
        yield Service(app, app.state.context, app.state.runtime.db, client)
    await app.state.runtime.db.dispose()


async def _seed(ctx: Context, db: Database, orgs: list[OrgRow] | None = None) -> None:
    async with db.transaction() as session:
        for org_id, parent_id, level, node in (REPLICA + LOCAL) if orgs is None else orgs:
            org = Org(org_id, org_id.upper(), parent_id, level.value, node)
            await ctx.orgs.apply(session, org)


@pytest.fixture
def seed_orgs() -> OrgSeeder:
    """``await seed_orgs(ctx, db, orgs=whole tree)``: write orgs into the replica directly (as
    the org-tree consumer would), so the outbox stays empty."""
    return _seed


@pytest.fixture
async def context_for(
    settings: EnrollmentSettings, federation_keys: NodeKeys
) -> AsyncIterator[ContextFactory]:
    """``context_for(url, clock)`` → node zj's use-case context and database, no web app."""
    made: list[Database] = []

    def make(database_url: str, clock: Clock) -> tuple[Context, Database]:
        db = Database(database_url)
        made.append(db)
        here = settings.model_copy(update={"database_url": database_url})
        ctx = Context(
            settings=here,
            outbox=Outbox(MESSAGING, here.source, clock, signer=federation_keys.signer(NODE)),
            orgs=OrgDirectory(db, ORGS, here.node_id, here.root_org, clock),
            clock=clock,
        )
        return ctx, db

    yield make
    for db in made:
        await db.dispose()


@pytest.fixture
async def replica(service: Service) -> Service:
    """Only the orgs other nodes host are known: this node has not registered its own yet."""
    await _seed(service.ctx, service.db, REPLICA)
    return service


@pytest.fixture
async def node(replica: Service) -> Service:
    """The whole demo tree is known, the zj subtree hosted here; the outbox is empty."""
    await _seed(replica.ctx, replica.db, LOCAL)
    return replica


ServiceFactory = Callable[..., Awaitable[Service]]


@pytest.fixture
async def make_service() -> AsyncIterator[ServiceFactory]:
    """``await make_service(settings, clock=None)`` → another node zj built from other
    settings (or a clock the test moves), the whole demo tree known, outbox empty."""
    made: list[tuple[FastAPI, httpx.AsyncClient]] = []

    async def make(settings: EnrollmentSettings, clock: Clock | None = None) -> Service:
        app = create_app(settings, clock)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://zj.test"
        )
        made.append((app, client))
        built = Service(app, app.state.context, app.state.runtime.db, client)
        await _seed(built.ctx, built.db)
        return built

    yield make
    for app, client in made:
        await client.aclose()
        await app.state.runtime.db.dispose()


async def _outbox(db: Database) -> list[OutboxRow]:
    table = MESSAGING.outbox
    async with db.sessions() as session:
        rows = (await session.execute(select(table).order_by(table.c.seq))).all()
    return [
        OutboxRow(
            topic=r.topic,
            key=r.key,
            headers=dict(json.loads(r.headers)),
            payload=json.loads(r.payload),
            raw_headers=r.headers,
            raw_payload=r.payload.decode(),
        )
        for r in rows
    ]


@pytest.fixture
def outbox() -> OutboxReader:
    """``await outbox(db)`` → the staged events in commit order, headers and payload decoded."""
    return _outbox


@pytest.fixture
def programme_body() -> Callable[..., dict[str, Any]]:
    def make(owner_org: str = "hzsteel", **overrides: Any) -> dict[str, Any]:
        start = datetime(2030, 5, 1, 1, 0, tzinfo=UTC)
        body = {
            "owner_org": owner_org,
            "title": "Safe crane operation",
            "kind": "training_course",
            "quality_area": "safety_health",
            "capacity": 30,
            "hours": 8,
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=8)).isoformat(),
        }
        body.update(overrides)
        return body

    return make


# -- roster imports (test_roster_*.py) ---------------------------------------------------------

ROSTER_HEADER = [
    "org", "name", "employee_no", "email", "phone", "language", "joined_on", "skill_grade",
    "birth_date",
]  # fmt: skip
# Bad rows of a sample, one in `bad_every`, by kind: (column, what the reason says).
ROSTER_BAD_KINDS: dict[str, tuple[str, str]] = {
    "email": ("email", "not a valid e-mail address"),
    "org": ("org", "unknown grassroots org"),
    "duplicate": ("employee_no", "duplicate employee number in this file: first at line"),
    "name": ("name", "required"),
    "formula": ("name", "formula not allowed"),  # XLSX only: a cell holding a formula
}


@dataclass
class RosterSample:
    """A roster of `rows` members of hzsteel-rolling and hzsteel-casting (alternately), one
    row in `bad_every` bad in turn by each of `kinds`; `bad` maps a bad row's line to
    (column, reason) as the error report gives them."""

    rows: list[list[Any]]
    bad: dict[int, tuple[str, str]]

    @property
    def good(self) -> int:
        return len(self.rows) - len(self.bad)

    def csv(self, encoding: str = "utf-8", header: list[str] | None = None) -> bytes:
        import csv
        import io

        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(header or ROSTER_HEADER)
        writer.writerows(self.rows)
        return out.getvalue().encode(encoding)

    def xlsx(self) -> bytes:
        import io

        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("roster")
        sheet.append(ROSTER_HEADER)
        for row in self.rows:
            sheet.append(row)  # a text starting with "=" is written as a formula
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()


def roster_sample(
    rows: int, bad_every: int = 100, kinds: tuple[str, ...] = ("email", "org", "duplicate", "name")
) -> RosterSample:
    sample: list[list[Any]] = []
    bad: dict[int, tuple[str, str]] = {}
    for i in range(rows):
        org = "hzsteel-rolling" if i % 2 else "hzsteel-casting"
        name = f"工人{i}" if i % 3 else f"Worker {i}"
        row: list[Any] = [
            org, name, f"E{i:06d}", f"w{i}@hzsteel.example", f"+86 138{i:08d}",
            "zh" if i % 4 else "en", f"2015/3/{1 + i % 28}", 1 + i % 8, f"198{i % 10}-07-01",
        ]  # fmt: skip
        if bad_every and i % bad_every == bad_every // 2 and i > 0:
            kind = kinds[(i // bad_every) % len(kinds)]
            column, reason = ROSTER_BAD_KINDS[kind]
            if kind == "email":
                row[3] = "not-an-email"
            elif kind == "org":
                row[0] = "no-such-org"
            elif kind == "duplicate":
                row[0], row[2] = sample[i - 1][0], sample[i - 1][2]
                reason = f"{reason} {i + 1}"  # the row before, on line i + 1
            elif kind == "name":
                row[1] = ""
            else:
                row[1] = "=1+1"
            bad[i + 2] = (column, reason)  # line i + 2: the header is line 1
        sample.append(row)
    return RosterSample(sample, bad)


@pytest.fixture
def make_roster() -> Callable[..., RosterSample]:
    """``make_roster(rows, bad_every=100, kinds=(…))`` → a RosterSample (see there)."""
    return roster_sample


# Which of the node's consumers read each topic, as Kafka would deliver to them.
READERS = {
    topics.inbox(NODE): ["requests"],
    topics.ENROLLMENT: ["catalogue", "learning"],
    topics.STATS: ["stats"],
}


@pytest.fixture
def relay_loop() -> Callable[[Service], InProcessRelay]:
    """``relay_loop(service)`` → the node's relay and Kafka in-process (`await loop.run()`
    delivers every staged event to the node's own consumers until nothing more is staged)."""

    def make(service: Service) -> InProcessRelay:
        consumers = {c.spec.name: c for c in service.app.state.runtime.consumers}
        return InProcessRelay(service.db, MESSAGING.outbox, consumers, READERS)

    return make
