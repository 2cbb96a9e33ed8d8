"""Every node checks who wrote an org-tree event before it believes it: the signature must be
the key of the node `ce_source` names, and that node must host the org's parent (the top
org: its own node). Anything else is dead-lettered with its reason; the tree is unchanged."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import select

from enrollment.models import MESSAGING, ORGS
from shared.contracts.envelope import envelope_for
from shared.contracts.events import OrgLevel, OrgRegistered
from shared.contracts.topics import FEDERATION
from shared.db import Database
from shared.messaging.consumer import ConsumerSpec, IdempotentConsumer, Outcome
from shared.orgs.directory import OrgDirectory
from shared.orgs.signing import SIGNATURE_HEADER, FederationKeys, NodeSigner, key_id
from shared.testing import (
    FakeDeadLetters,
    FakeRecord,
    NodeKeys,
    migrated,
    node_keys,
    record_for,
    signed_org_record,
)

MIGRATIONS = Path(__file__).resolve().parents[2] / "services/enrollment/migrations"
AT = datetime(2026, 11, 25, tzinfo=UTC)
S, E, G = OrgLevel.superior, OrgLevel.enterprise, OrgLevel.grassroots
# (org, parent, level, host): cn > zj > zj-hz > {hz-bus > hz-bus-depot, hzsteel > rolling}
TREE = [
    ("cn", None, S, "cn"),
    ("zj", "cn", S, "zj"),
    ("zj-hz", "zj", S, "zj"),
    ("hz-bus", "zj-hz", E, "zj"),
    ("hz-bus-depot", "hz-bus", G, "zj"),
    ("hzsteel", "zj-hz", E, "hzsteel"),
    ("hzsteel-rolling", "hzsteel", G, "hzsteel"),
]
HOSTS = {org: host for org, _, _, host in TREE}


def org(org_id: str, parent: str | None, level: OrgLevel, host: str, **kw: str) -> OrgRegistered:
    return OrgRegistered(
        org_id=org_id,
        name=kw.get("name", org_id.upper()),
        parent_id=parent,
        level=level,
        hosted_by=host,
    )


@dataclasses.dataclass
class Replica:
    db: Database
    consumer: IdempotentConsumer
    dead: FakeDeadLetters
    keys: NodeKeys
    offset: int = 0

    async def feed(self, record: FakeRecord) -> Outcome:
        return await self.consumer.process(record)

    def signed(self, event: OrgRegistered, writer: str | None = None) -> FakeRecord:
        self.offset += 1
        return signed_org_record(
            event, self.keys, HOSTS, topic=FEDERATION, at=AT, offset=self.offset, writer=writer
        )

    async def orgs(self) -> dict[str, tuple[str, str | None]]:
        async with self.db.reading() as session:
            rows = (await session.execute(select(ORGS))).all()
        return {r.org_id: (r.name, r.parent_id) for r in rows}

    def reasons(self) -> list[str]:
        return [d.reason for d in self.dead.sent]


@pytest.fixture
async def replica(tmp_path: Path) -> AsyncIterator[Replica]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'replica.db'}"
    await migrated(MIGRATIONS, url)
    db = Database(url)
    keys = node_keys(tmp_path / "keys", ["cn", "zj", "hzsteel"])
    directory = OrgDirectory(db, ORGS, "zj", "zj")
    spec = ConsumerSpec("org_tree", [FEDERATION], "g", {OrgRegistered: directory.on_org_registered})
    dead = FakeDeadLetters()
    consumer = IdempotentConsumer(
        spec,
        db,
        MESSAGING,
        dead,
        signatures=FederationKeys.from_file(keys.jwks_path),
        held_limit_seconds=600,
    )
    here = Replica(db, consumer, dead, keys)
    for row in TREE:
        assert await here.feed(here.signed(org(*row))) is Outcome.handled
    yield here
    await db.dispose()


async def test_a_tree_written_by_the_nodes_with_the_authority_replicates(replica: Replica) -> None:
    assert set(await replica.orgs()) == set(HOSTS)
    assert replica.dead.sent == []


@pytest.mark.parametrize(
    ("event", "writer", "reason"),
    [
        (org("zj-hz", "zj", S, "zj", name="renamed"), "hzsteel", "parent_not_hosted_by_writer"),
        (org("hzsteel", "zj", E, "hzsteel"), "hzsteel", "parent_not_hosted_by_writer"),
        (org("rival", None, S, "hzsteel"), "hzsteel", "second_top_org"),
        (org("cn", None, S, "cn", name="renamed"), "zj", "top_org_not_hosted_by_writer"),
        (org("hz-bus-depot", "hzsteel", G, "zj"), "hzsteel", "old_parent_not_hosted_by_writer"),
        (org("zj-hz", "hz-bus", S, "zj"), "zj", "cycle"),
        (org("zj-hz", "zj-hz", S, "zj"), "zj", "cycle"),
        (org("hz-depot-2", "hz-bus-depot", G, "zj"), "zj", "level_not_allowed_under_parent"),
    ],
    ids=[
        "rename-another-nodes-org",
        "detach",
        "second-top",
        "top-by-another",
        "steal",
        "cycle",
        "own-parent",
        "level",
    ],
)
async def test_a_change_by_a_node_without_the_authority_is_dead_lettered(
    replica: Replica, event: OrgRegistered, writer: str, reason: str
) -> None:
    before = await replica.orgs()

    assert await replica.feed(replica.signed(event, writer)) is Outcome.dead_lettered

    assert replica.reasons() == [f"unauthorised_org_change:{reason}"]
    assert replica.dead.sent[0].fields == ["ce_source"]
    assert await replica.orgs() == before


async def test_a_node_hosting_both_parents_moves_an_org(replica: Replica) -> None:
    moved = org("hz-bus-depot", "zj-hz", G, "zj")

    assert await replica.feed(replica.signed(moved, "zj")) is Outcome.handled

    assert (await replica.orgs())["hz-bus-depot"] == ("HZ-BUS-DEPOT", "zj-hz")


async def test_a_spoofed_source_signed_with_another_nodes_key_is_dead_lettered(
    replica: Replica,
) -> None:
    event = org("zj-hz", "zj", S, "zj", name="renamed")
    envelope = envelope_for(event, source="bigschool/zj/enrollment", at=AT)  # claims to be zj
    forged = record_for(event, envelope, topic=FEDERATION, signer=replica.keys.signer("hzsteel"))

    assert await replica.feed(forged) is Outcome.dead_lettered

    assert replica.reasons() == ["bad_signature:signed by another node's key"]
    assert replica.dead.sent[0].fields == [SIGNATURE_HEADER]
    assert (await replica.orgs())["zj-hz"][0] == "ZJ-HZ"


async def test_an_unsigned_org_event_is_dead_lettered(replica: Replica) -> None:
    event = org("zj-hz", "zj", S, "zj", name="renamed")
    unsigned = record_for(event, envelope_for(event, source="bigschool/zj/e", at=AT), topic="t")

    assert await replica.feed(unsigned) is Outcome.dead_lettered
    assert replica.reasons() == ["bad_signature:unsigned"]


async def test_a_body_or_header_changed_after_signing_is_dead_lettered(replica: Replica) -> None:
    good = replica.signed(org("zj-hz", "zj", S, "zj", name="renamed"), "zj")
    assert good.value is not None
    body = dataclasses.replace(good, value=good.value.replace(b"renamed", b"hijacked"))
    headers = [(k, b"bigschool/zj/x" if k == "ce_source" else v) for k, v in good.headers]
    header = dataclasses.replace(good, headers=headers)

    assert await replica.feed(body) is Outcome.dead_lettered
    assert await replica.feed(header) is Outcome.dead_lettered
    assert replica.reasons() == ["bad_signature:does not verify"] * 2
    assert (await replica.orgs())["zj-hz"][0] == "ZJ-HZ"


async def test_a_key_not_known_yet_is_held_then_picked_up_from_the_jwks_file(
    replica: Replica,
) -> None:
    rotated = NodeSigner(Ed25519PrivateKey.generate(), key_id("zj", version=2))
    event = org("hz-new", "hz-bus", G, "zj")
    envelope = envelope_for(event, source="bigschool/zj/enrollment", at=AT)
    record = record_for(event, envelope, topic=FEDERATION, offset=99, signer=rotated)

    assert await replica.feed(record) is Outcome.held  # zj's new key has not reached us
    assert replica.dead.sent == []
    jwks = json.loads(replica.keys.jwks_path.read_text())
    jwk = json.loads(OKPAlgorithm.to_jwk(rotated.key.public_key()))
    jwks["keys"].append(jwk | {"kid": rotated.kid})
    replica.keys.jwks_path.write_text(json.dumps(jwks))  # the federation publishes it
    os.utime(replica.keys.jwks_path, (1e9, 2e9))  # a new mtime even within the same tick

    assert await replica.feed(record) is Outcome.handled
    assert "hz-new" in await replica.orgs()
