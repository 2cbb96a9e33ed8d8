"""Immediate rewards over HTTP: a grant within the org's quota is recorded with one
`HonourGranted` in the outbox; one over the count or the money is a 409 that leaves nothing
behind; a new period brings the quota back; a retried request does not reward twice."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from awards.models import MESSAGING, Reward, RewardQuotaUsage
from shared.contracts import topics
from shared.contracts.events import HonourGranted, MemberRegistered
from shared.messaging.consumer import Outcome
from shared.testing import Staged, staged

NODE = "hzsteel"  # the node the app fixture runs
NOW = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)  # the app fixture's clock: June in Shanghai
QUOTA = "/orgs/hzsteel-rolling/reward-quota"


async def _register(bus, member_id: str, home_org: str = "hzsteel-rolling") -> None:
    event = MemberRegistered(member_id=member_id, home_org=home_org, name="李雷")
    record, _ = bus.record(event, topics.members(NODE))
    assert await bus.deliver("members", record) is Outcome.handled


def _reward(member_id: str, amount_fen: int = 10_000, **overrides) -> dict:
    body = {
        "member_id": member_id,
        "home_org": "hzsteel-rolling",
        "title": "Safety hazard reported",
        "reason": "Spotted a cracked crane hook before the shift",
        "amount_fen": amount_fen,
        "benefits": ["cash"],
    }
    return body | overrides


async def _count(app, what) -> int:
    async with app.state.runtime.db.reading() as session:
        return (await session.execute(select(func.count()).select_from(what))).scalar_one()


async def _honours(app) -> list[Staged]:
    """(topic, ce_type, body) of every staged event."""
    return await staged(app.state.runtime.db, MESSAGING.outbox)


async def _setup(client, bus, auth, *, count: int = 5, amount_fen: int = 100_000) -> tuple:
    """A member of hzsteel-rolling, its quota set by the enterprise above it; the rolling
    cadre's headers and the member id."""
    member_id = str(uuid.uuid4())
    await _register(bus, member_id)
    quota = {"count": count, "amount_fen": amount_fen}
    put = await client.put(QUOTA, json=quota, headers=auth(org="hzsteel", roles=["cadre"]))
    assert put.status_code == 200, put.text
    return auth(org="hzsteel-rolling", roles=["cadre"]), member_id


async def test_a_grant_within_the_quota_is_recorded_with_one_honour_in_the_outbox(
    app, client, bus, auth
) -> None:
    cadre, member_id = await _setup(client, bus, auth)

    response = await client.post("/rewards", json=_reward(member_id), headers=cadre)

    assert response.status_code == 201, response.text
    reward = response.json()
    assert response.headers["location"] == f"/rewards/{reward['reward_id']}"
    assert (reward["granting_org"], reward["period"], reward["amount_fen"]) == (
        "hzsteel-rolling",
        "2025-06",
        10_000,
    )
    [(topic, ce_type, body)] = await _honours(app)
    assert (topic, ce_type) == (topics.AWARDS, HonourGranted.ce_type)
    honour = HonourGranted.model_validate(body)
    assert (honour.kind, honour.scheme_kind, honour.source_id) == (
        "reward",
        "immediate_reward",
        reward["reward_id"],
    )
    assert (honour.granting_org, honour.home_org, honour.member_ids) == (
        "hzsteel-rolling",
        "hzsteel-rolling",
        [member_id],
    )
    assert (honour.amount_fen, honour.benefits, honour.year) == (10_000, ["cash"], 2025)
    assert "李雷" not in json.dumps(body), "federation topics carry the member id only"
    quota = (await client.get(QUOTA, headers=cadre)).json()
    assert (quota["used_count"], quota["used_fen"], quota["left_count"]) == (1, 10_000, 4)


async def test_one_grant_over_the_count_quota_is_a_409_and_commits_nothing(
    app, client, bus, auth
) -> None:
    cadre, member_id = await _setup(client, bus, auth, count=2)
    for _ in range(2):
        assert (await client.post("/rewards", json=_reward(member_id), headers=cadre)).is_success

    refused = await client.post("/rewards", json=_reward(member_id), headers=cadre)

    assert refused.status_code == 409
    assert refused.json()["errors"][0]["field"] == "count"
    assert "2025-06" in refused.json()["detail"]
    assert await _count(app, Reward) == 2
    assert len(await _honours(app)) == 2
    quota = (await client.get(QUOTA, headers=cadre)).json()
    assert (quota["used_count"], quota["left_count"]) == (2, 0)


async def test_a_grant_over_the_money_left_is_a_409_naming_the_amount(
    app, client, bus, auth
) -> None:
    cadre, member_id = await _setup(client, bus, auth, count=5, amount_fen=15_000)
    await client.post("/rewards", json=_reward(member_id, 10_000), headers=cadre)

    refused = await client.post("/rewards", json=_reward(member_id, 5_001), headers=cadre)
    exactly = await client.post("/rewards", json=_reward(member_id, 5_000), headers=cadre)

    assert refused.status_code == 409
    assert refused.json()["errors"][0]["field"] == "amount_fen"
    assert exactly.status_code == 201, "what is left may still be granted"
    async with app.state.runtime.db.reading() as session:
        usage = await session.get(RewardQuotaUsage, ("hzsteel-rolling", "2025-06"))
    assert usage is not None and (usage.used_count, usage.used_fen) == (2, 15_000)


async def test_a_new_month_restores_the_quota(app, client, bus, auth) -> None:
    cadre, member_id = await _setup(client, bus, auth, count=1)
    assert (await client.post("/rewards", json=_reward(member_id), headers=cadre)).is_success
    assert (
        await client.post("/rewards", json=_reward(member_id), headers=cadre)
    ).status_code == 409

    app.state.context.clock.at = datetime(2025, 6, 30, 16, 0, tzinfo=UTC)  # 1 July, Shanghai
    july = await client.post("/rewards", json=_reward(member_id), headers=cadre)

    assert july.status_code == 201, july.text
    assert july.json()["period"] == "2025-07"
    quota = (await client.get(QUOTA, headers=cadre)).json()
    assert (quota["current_period"], quota["used_count"], quota["left_count"]) == ("2025-07", 1, 0)


async def test_a_quarterly_quota_counts_what_the_months_of_the_quarter_granted(
    client, bus, auth
) -> None:
    cadre, member_id = await _setup(client, bus, auth, count=5)
    for _ in range(2):
        await client.post("/rewards", json=_reward(member_id), headers=cadre)
    quarterly = {"count": 3, "amount_fen": 100_000, "period": "quarter"}
    await client.put(QUOTA, json=quarterly, headers=auth(org="hzsteel", roles=["cadre"]))

    third = await client.post("/rewards", json=_reward(member_id), headers=cadre)
    fourth = await client.post("/rewards", json=_reward(member_id), headers=cadre)

    assert (third.status_code, fourth.status_code) == (201, 409)
    assert third.json()["period"] == "2025-Q2"


async def test_an_org_without_a_quota_takes_the_default_of_the_settings(
    app, client, bus, auth
) -> None:
    member_id = str(uuid.uuid4())
    await _register(bus, member_id)
    cadre = auth(org="hzsteel-rolling", roles=["cadre"])

    refused = await client.post("/rewards", json=_reward(member_id), headers=cadre)
    app.state.context.settings.reward_quota_count = 1
    app.state.context.settings.reward_quota_fen = 50_000
    granted = await client.post("/rewards", json=_reward(member_id), headers=cadre)
    quota = (await client.get(QUOTA, headers=cadre)).json()

    assert refused.status_code == 409, "the default default allows none"
    assert granted.status_code == 201
    assert (quota["default"], quota["count"], quota["left_fen"]) == (True, 1, 40_000)


async def test_a_blank_reason_is_a_422_naming_the_reason(app, client, bus, auth) -> None:
    cadre, member_id = await _setup(client, bus, auth)

    response = await client.post("/rewards", json=_reward(member_id, reason="   "), headers=cadre)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["reason"]
    assert await _count(app, Reward) == 0


async def test_a_negative_amount_is_a_422_naming_the_amount(client, bus, auth) -> None:
    cadre, member_id = await _setup(client, bus, auth)

    response = await client.post("/rewards", json=_reward(member_id, -1), headers=cadre)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["amount_fen"]


async def test_a_home_org_that_is_not_the_members_is_a_422(client, bus, auth) -> None:
    member_id = str(uuid.uuid4())
    await _register(bus, member_id, "hzsteel-casting")
    body = _reward(member_id, home_org="hzsteel-rolling")

    response = await client.post(
        "/rewards", json=body, headers=auth(org="hzsteel", roles=["cadre"])
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "home_org"


async def test_the_same_idempotency_key_replays_the_reward_instead_of_granting_a_second(
    app, client, bus, auth
) -> None:
    cadre, member_id = await _setup(client, bus, auth)
    headers = cadre | {"Idempotency-Key": "reward-7f3c"}

    first = await client.post("/rewards", json=_reward(member_id), headers=headers)
    again = await client.post("/rewards", json=_reward(member_id), headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json()["reward_id"] == first.json()["reward_id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await _count(app, Reward) == 1
    assert len(await _honours(app)) == 1
    assert (await client.get(QUOTA, headers=cadre)).json()["used_count"] == 1


async def test_an_orgs_rewards_are_listed_newest_first_by_page_and_by_period(
    app, client, bus, auth
) -> None:
    cadre, member_id = await _setup(client, bus, auth, count=10)
    for minutes in range(3):
        app.state.context.clock.at = NOW + timedelta(minutes=minutes)
        await client.post("/rewards", json=_reward(member_id, 1_000 + minutes), headers=cadre)
    app.state.context.clock.at = datetime(2025, 7, 2, tzinfo=UTC)
    await client.post("/rewards", json=_reward(member_id, 9), headers=cadre)
    url = "/orgs/hzsteel-rolling/rewards"

    first = (await client.get(url, params={"limit": 2}, headers=cadre)).json()
    rest = await client.get(url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=cadre)
    june = (await client.get(url, params={"period": "2025-06"}, headers=cadre)).json()
    bad = await client.get(url, params={"period": "2025-13"}, headers=cadre)

    assert [r["amount_fen"] for r in first["items"]] == [9, 1_002]
    assert [r["amount_fen"] for r in rest.json()["items"]] == [1_001, 1_000]
    assert [r["amount_fen"] for r in june["items"]] == [1_002, 1_001, 1_000]
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "period"


async def test_a_member_sees_their_own_rewards(client, bus, auth) -> None:
    cadre, member_id = await _setup(client, bus, auth)
    granted = (await client.post("/rewards", json=_reward(member_id), headers=cadre)).json()
    member = auth(org="hzsteel-rolling", roles=["member"], member_id=member_id)

    mine = await client.get(f"/members/{member_id}/rewards", headers=member)
    one = await client.get(f"/rewards/{granted['reward_id']}", headers=member)

    assert [r["reward_id"] for r in mine.json()["items"]] == [granted["reward_id"]]
    assert one.json()["reason"] == "Spotted a cracked crane hook before the shift"
