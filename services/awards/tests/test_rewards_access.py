"""Who may do what with immediate rewards: every endpoint against the member, the grassroots,
enterprise and superior cadres, cadres of other orgs (at this node and at another) and a
reviewer — 404 for what the caller may not see, 403 for what they see but may not change."""

from __future__ import annotations

from typing import Any

from shared.contracts import topics
from shared.contracts.events import MemberRegistered, OrgLevel, OrgRegistered
from shared.messaging.consumer import Outcome

NODE = "hzsteel"  # the node the app fixture runs; its root org is hzsteel
MEMBER = "0b6f3f5e-0d0e-4a53-9b55-2f7f7f9f1a01"  # at home in hzsteel-rolling
QUOTA = "/orgs/hzsteel-rolling/reward-quota"

CALLERS: dict[str, dict[str, Any]] = {
    "member": {"org": "hzsteel-rolling", "roles": ["member"], "member_id": MEMBER},
    "another member": {
        "org": "hzsteel-rolling",
        "roles": ["member"],
        "member_id": "5e1d0c1a-7a43-4f7e-8f4e-3c2b1a0f9e02",
    },
    "grassroots cadre": {"org": "hzsteel-rolling", "roles": ["cadre"]},
    "enterprise cadre": {"org": "hzsteel", "roles": ["cadre"]},
    "superior cadre": {"org": "zj", "roles": ["cadre"]},
    "other-org cadre": {"org": "hzsteel-casting", "roles": ["cadre"]},
    "other-node cadre": {"org": "otherco", "roles": ["cadre"]},
    "reviewer": {"org": "hzsteel", "roles": ["reviewer"]},
    "node admin": {"org": "hzsteel", "roles": ["admin"]},
}


def _reward(member_id: str = MEMBER, home_org: str = "hzsteel-rolling") -> dict[str, Any]:
    return {
        "member_id": member_id,
        "home_org": home_org,
        "title": "Timely report",
        "reason": "Reported a gas leak at once",
        "amount_fen": 5_000,
    }


async def _granted(client, bus, auth) -> str:
    """MEMBER registered here, a quota for hzsteel-rolling, one reward granted by it."""
    record, _ = bus.record(
        MemberRegistered(member_id=MEMBER, home_org="hzsteel-rolling", name="王芳"),
        topics.members(NODE),
    )
    assert await bus.deliver("members", record) is Outcome.handled
    quota = {"count": 50, "amount_fen": 1_000_000}
    put = await client.put(QUOTA, json=quota, headers=auth(**CALLERS["enterprise cadre"]))
    assert put.status_code == 200
    enterprise = "/orgs/hzsteel/reward-quota"  # the enterprise's own, set by the node's admin
    put = await client.put(enterprise, json=quota, headers=auth(**CALLERS["node admin"]))
    assert put.status_code == 200
    grassroots = auth(**CALLERS["grassroots cadre"])
    response = await client.post("/rewards", json=_reward(), headers=grassroots)
    assert response.status_code == 201
    return str(response.json()["reward_id"])


async def _statuses(auth, call) -> dict[str, int]:
    return {who: (await call(auth(**claims))).status_code for who, claims in CALLERS.items()}


# What cadres of hzsteel-rolling and of the orgs above it see (an admin is a cadre here);
# nobody else learns that it exists.
SEEN_BY_CADRES = {
    "member": 404,
    "another member": 404,
    "grassroots cadre": 200,
    "enterprise cadre": 200,
    "superior cadre": 200,
    "other-org cadre": 404,
    "other-node cadre": 404,
    "reviewer": 404,
    "node admin": 200,
}
# ... and the member rewarded sees it too.
SEEN_BY_CADRES_AND_THE_MEMBER = SEEN_BY_CADRES | {"member": 200}


async def test_granting_is_for_grassroots_and_enterprise_cadres_of_the_members_org(
    client, bus, auth
) -> None:
    await _granted(client, bus, auth)

    seen = await _statuses(auth, lambda h: client.post("/rewards", json=_reward(), headers=h))

    assert seen == {
        "member": 403,
        "another member": 403,
        "grassroots cadre": 201,
        "enterprise cadre": 201,
        "superior cadre": 403,  # a superior org is no granting level (nor hosted here)
        "other-org cadre": 404,  # the member is not theirs to see
        "other-node cadre": 403,  # its org's rewards are granted at its own node
        "reviewer": 403,
        "node admin": 403,  # an admin sets quotas; cadres grant
    }


async def test_a_reward_is_seen_by_the_member_and_cadres_of_the_granting_org_and_above(
    client, bus, auth
) -> None:
    reward_id = await _granted(client, bus, auth)

    seen = await _statuses(auth, lambda h: client.get(f"/rewards/{reward_id}", headers=h))

    assert seen == SEEN_BY_CADRES_AND_THE_MEMBER


async def test_an_orgs_rewards_are_listed_for_cadres_of_it_and_above(client, bus, auth) -> None:
    await _granted(client, bus, auth)
    url = "/orgs/hzsteel-rolling/rewards"

    seen = await _statuses(auth, lambda h: client.get(url, headers=h))

    assert seen == SEEN_BY_CADRES


async def test_a_members_rewards_are_listed_for_the_member_and_the_granting_cadres(
    client, bus, auth
) -> None:
    await _granted(client, bus, auth)
    url = f"/members/{MEMBER}/rewards"

    seen = await _statuses(auth, lambda h: client.get(url, headers=h))

    assert seen == SEEN_BY_CADRES_AND_THE_MEMBER


async def test_a_cadre_lists_only_what_their_org_or_an_org_below_granted(client, bus, auth) -> None:
    await _granted(client, bus, auth)
    enterprise = auth(**CALLERS["enterprise cadre"])
    assert (await client.post("/rewards", json=_reward(), headers=enterprise)).status_code == 201
    url = f"/members/{MEMBER}/rewards"

    by_grassroots = (await client.get(url, headers=auth(**CALLERS["grassroots cadre"]))).json()
    by_enterprise = (await client.get(url, headers=enterprise)).json()
    by_member = (await client.get(url, headers=auth(**CALLERS["member"]))).json()

    assert [r["granting_org"] for r in by_grassroots["items"]] == ["hzsteel-rolling"]
    assert sorted(r["granting_org"] for r in by_enterprise["items"]) == [
        "hzsteel",
        "hzsteel-rolling",
    ]
    assert len(by_member["items"]) == 2


async def test_a_quota_is_seen_by_cadres_of_the_org_and_above(client, bus, auth) -> None:
    await _granted(client, bus, auth)

    seen = await _statuses(auth, lambda h: client.get(QUOTA, headers=h))

    assert seen == SEEN_BY_CADRES


async def test_a_quota_is_set_by_a_level_above_at_this_node_never_by_the_org_itself(
    client, bus, auth
) -> None:
    await _granted(client, bus, auth)
    body = {"count": 7, "amount_fen": 70_000}

    seen = await _statuses(auth, lambda h: client.put(QUOTA, json=body, headers=h))
    own = await client.put(
        "/orgs/hzsteel/reward-quota", json=body, headers=auth(**CALLERS["enterprise cadre"])
    )

    assert seen == {
        "member": 404,
        "another member": 404,
        "grassroots cadre": 403,  # sees its own quota, may not raise it
        "enterprise cadre": 200,
        "superior cadre": 403,  # above it, but not at this node
        "other-org cadre": 404,
        "other-node cadre": 404,
        "reviewer": 404,
        "node admin": 200,
    }
    assert own.status_code == 403
    assert own.json()["errors"][0]["field"] == "org_id"


async def test_a_member_at_home_at_another_node_below_the_cadres_org_may_be_rewarded(
    app, client, bus, auth
) -> None:
    remote = OrgRegistered(
        org_id="hzsteel-remote",
        name="Remote mill",
        parent_id="hzsteel",
        level=OrgLevel.grassroots,
        hosted_by="zj",
    )
    outcome, _ = await bus.publish(remote)
    assert outcome is Outcome.handled
    await _granted(client, bus, auth)
    enterprise = auth(**CALLERS["enterprise cadre"])
    elsewhere = "9c1e6a0b-2f4d-4c8e-9a7b-6d5e4f3a2b10"  # no record at this node

    granted = await client.post(
        "/rewards", json=_reward(elsewhere, "hzsteel-remote"), headers=enterprise
    )
    outside = await client.post(
        "/rewards", json=_reward(elsewhere, "otherco-line"), headers=enterprise
    )

    assert granted.status_code == 201, granted.text
    assert granted.json()["home_org"] == "hzsteel-remote"
    assert outside.status_code == 404
    assert outside.json()["errors"][0]["field"] == "home_org"
