"""Rationalization proposals on PostgreSQL: the whole lifecycle with its honour staged in the
outbox, two cadres taking the same step at once (the row lock lets one through), and the
monthly figures grouped by the database in the federation's months."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from awards import member_repository
from awards.models import MESSAGING, MemberReplica
from shared.contracts import topics
from shared.contracts.events import HonourGranted

pytestmark = pytest.mark.integration

ROLLING = "hzsteel-rolling"
NOW = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)  # the clock of the `pg_awards` app
CADRE = {"org": ROLLING, "roles": ["cadre"]}


async def _members(app: FastAPI, n: int) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(n)]
    async with app.state.runtime.db.transaction() as session:
        for member_id in ids:
            member = MemberReplica(
                member_id=member_id, home_org=ROLLING, display_name="李雷", updated_at=NOW
            )
            await member_repository.put_member(session, member)
    return ids


async def _submit(client, auth, member_id: str) -> str:
    body = {"title": "T", "problem": "P", "proposal": "Q", "expected_benefit": "B"}
    headers = auth(org=ROLLING, roles=["member"], member_id=member_id)
    response = await client.post("/proposals", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["proposal_id"])


async def test_the_whole_lifecycle_commits_the_reward_with_its_honour(pg_awards, client, auth):
    [author] = await _members(pg_awards, 1)
    pid = await _submit(client, auth, author)
    cadre = auth(**CADRE)
    steps = [
        ("adopt", None),
        ("trial", {"note": "two shifts"}),
        ("assess", {"benefit_fen": 6_000_000, "note": "metered"}),
        ("reward", None),
    ]

    for step, body in steps:
        response = await client.post(f"/proposals/{pid}/{step}", json=body, headers=cadre)
        assert response.status_code == 200, response.text

    final = response.json()
    assert (final["state"], final["reward_fen"]) == ("rewarded", 300_000)  # the default table
    assert [s["seq"] for s in final["steps"]] == [1, 2, 3, 4, 5]
    async with pg_awards.state.runtime.db.reading() as session:
        rows = (await session.execute(select(MESSAGING.outbox))).all()
    [row] = [r for r in rows if r.topic == topics.AWARDS]
    assert (row.topic, row.key) == (topics.AWARDS, pid)
    # And the author told of each of the four steps, on the node-local members topic.
    assert sorted(r.key for r in rows if r.topic != topics.AWARDS) == [pid] * 4
    assert dict(json.loads(row.headers))["ce_type"] == HonourGranted.ce_type
    assert json.loads(row.payload)["amount_fen"] == 300_000


async def test_two_cadres_adopting_at_once_let_one_through(pg_awards, client, auth):
    [author] = await _members(pg_awards, 1)
    pid = await _submit(client, auth, author)

    responses = await asyncio.gather(
        *(client.post(f"/proposals/{pid}/adopt", headers=auth(**CADRE)) for _ in range(4))
    )

    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409]
    seen = (await client.get(f"/proposals/{pid}", headers=auth(**CADRE))).json()
    assert [s["step"] for s in seen["steps"]] == ["submit", "adopt"]


async def test_monthly_figures_are_grouped_in_the_federations_months(pg_awards, client, auth):
    people = await _members(pg_awards, 6)
    clock = pg_awards.state.context.clock
    clock.at = datetime(2025, 2, 28, 16, 30, tzinfo=UTC)  # 00:30 on 1 March in Shanghai
    march = [await _submit(client, auth, m) for m in people[:5]]
    for pid in march[:4]:
        await client.post(f"/proposals/{pid}/adopt", headers=auth(**CADRE))
    await client.post(f"/proposals/{march[4]}/reject", json={"reasons": "r"}, headers=auth(**CADRE))
    clock.at = datetime(2025, 2, 28, 15, 30, tzinfo=UTC)  # still February in Shanghai
    await _submit(client, auth, people[5])
    clock.at = NOW

    response = await client.get(
        "/orgs/hzsteel/proposal-stats",
        params={"year": 2025},
        headers=auth(org="hzsteel", roles=["cadre"]),
    )

    assert response.status_code == 200, response.text
    months = {m["month"]: m for m in response.json()["months"]}
    assert months[3]["participation"] == {
        "suppressed": False,
        "submitted": 5,
        "authors": 5,
        "per_member": round(5 / 6, 4),
        "rate": round(5 / 6, 4),
    }
    assert months[3]["adoption"] == {"suppressed": False, "evaluated": 5, "adopted": 4, "rate": 0.8}
    assert months[2]["participation"] == {"suppressed": True}
    assert response.json()["total"]["participation"]["submitted"] == 6
