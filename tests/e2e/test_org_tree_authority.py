"""The federation's tree cannot be rewritten by an org without the authority: not through the
API of either node, and not by a node writing org-tree events to Kafka itself — with its own
key for another node's org, or with a forged `ce_source`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer

from deploy.local.federation import ENTERPRISE_NODE, ROOTS, SUPERIOR_NODE
from shared.contracts import topics
from shared.contracts.envelope import envelope_for
from shared.contracts.events import OrgLevel, OrgRegistered
from shared.orgs.signing import SIGNATURE_HEADER, NodeSigner, key_id
from tests.e2e.conftest import RunningFederation
from tests.e2e.helpers import dead_letters, wait_until

pytestmark = pytest.mark.e2e

HIJACKED = "Hijacked federation"


@pytest.mark.parametrize(
    ("node", "body"),
    [
        (ENTERPRISE_NODE, {"org_id": "hzsteel", "parent_id": "zj-hz", "level": "enterprise"}),
        (ENTERPRISE_NODE, {"org_id": "hzsteel", "parent_id": "zj", "level": "enterprise"}),
        (SUPERIOR_NODE, {"org_id": "zj-hz", "parent_id": "zj", "level": "superior"}),
    ],
    ids=["rename-own-enterprise", "detach-it", "rename-city-at-superior-node"],
)
def test_an_admin_of_a_grassroots_union_cannot_rewrite_the_tree(
    running_federation: RunningFederation, node: str, body: dict[str, str]
) -> None:
    fed = running_federation.federation
    admin = fed.client(node, "enrollment", org="hzsteel-rolling", roles="admin", sub="rogue")
    response = admin.http.post("/orgs", json=body | {"name": HIJACKED})
    admin.close()

    assert response.status_code in (403, 422), response.text
    for at in (ENTERPRISE_NODE, SUPERIOR_NODE):
        reader = fed.admin(at)
        assert reader.get(f"/orgs/{body['org_id']}")["name"] != HIJACKED
        reader.close()


async def _publish_as_enterprise_node(fed: RunningFederation, *, claim: str) -> str:
    """Node hzsteel, with its own Kafka principal and signing key, writes an org-tree event
    renaming zj-hz (zj's org), claiming to be node `claim`. Returns the event id."""
    event = OrgRegistered(
        org_id="zj-hz", name=HIJACKED, parent_id="zj", level=OrgLevel.superior, hosted_by="zj"
    )
    envelope = envelope_for(event, source=f"bigschool/{claim}/enrollment", at=datetime.now(UTC))
    key = fed.keys_dir / f"node-{ENTERPRISE_NODE}.pem"
    signer = NodeSigner.from_pem(key.read_bytes(), key_id(ENTERPRISE_NODE))
    body = event.model_dump_json().encode()
    headers = envelope.headers()
    headers.append((SIGNATURE_HEADER, signer.sign(headers, body).encode()))
    producer = AIOKafkaProducer(
        **fed.node(ENTERPRISE_NODE).kafka.aiokafka(), enable_idempotence=True
    )
    await producer.start()
    try:
        await producer.send_and_wait(topics.FEDERATION, body, key=b"zj-hz", headers=headers)
    finally:
        await producer.stop()
    return envelope.id


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        (ENTERPRISE_NODE, "unauthorised_org_change:parent_not_hosted_by_writer"),
        (SUPERIOR_NODE, "bad_signature:signed by another node's key"),
    ],
    ids=["own-key-for-another-nodes-org", "forged-source"],
)
def test_a_node_writing_org_events_it_may_not_write_is_dead_lettered_everywhere(
    running_federation: RunningFederation, claim: str, reason: str
) -> None:
    fed = running_federation
    ce_id = asyncio.run(_publish_as_enterprise_node(fed, claim=claim))

    def letters() -> list[dict[str, str]]:
        found = asyncio.run(dead_letters(fed.kafka, topics.dlq(topics.FEDERATION)))
        return [d for d in found if d.get("ce_id") == ce_id]

    # Every service of every node refuses it: 3 services each.
    expected = 3 * len(ROOTS)
    found = wait_until(lambda: len(got := letters()) >= expected and got, what="dead letters")
    assert {d["bigschool_dlq_reason"] for d in found} == {reason}
    assert {d["bigschool_dlq_consumer"].split(".")[1] for d in found} == set(ROOTS)
    for at in (ENTERPRISE_NODE, SUPERIOR_NODE):
        reader = fed.federation.admin(at)
        assert reader.get("/orgs/zj-hz")["name"] == "杭州市总工会"
        reader.close()
