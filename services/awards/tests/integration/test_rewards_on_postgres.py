"""No quota overrun under concurrent grants on PostgreSQL: twenty cadres' requests reach the
API at once against an org's quota of five; the usage row's lock (SELECT … FOR UPDATE) makes
them count one after the other, so exactly five are granted and the rest refused."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from awards import member_repository
from awards.models import MESSAGING, MemberReplica, Reward, RewardQuotaUsage

pytestmark = pytest.mark.integration

NOW = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)  # the clock of the `pg_awards` app


async def _count(db, what) -> int:
    async with db.reading() as session:
        return int((await session.execute(select(func.count()).select_from(what))).scalar_one())


async def test_twenty_concurrent_grants_against_a_quota_of_five_grant_exactly_five(
    pg_awards: FastAPI, client, auth
) -> None:
    db = pg_awards.state.runtime.db
    members = [str(uuid.uuid4()) for _ in range(20)]
    async with db.transaction() as session:
        for member_id in members:
            member = MemberReplica(
                member_id=member_id, home_org="hzsteel-rolling", display_name="W", updated_at=NOW
            )
            await member_repository.put_member(session, member)
    quota = {"count": 5, "amount_fen": 1_000_000}
    put = await client.put(
        "/orgs/hzsteel-rolling/reward-quota",
        json=quota,
        headers=auth(org="hzsteel", roles=["cadre"]),
    )
    assert put.status_code == 200, put.text

    async def grant(member_id: str) -> int:
        body = {
            "member_id": member_id,
            "home_org": "hzsteel-rolling",
            "title": "Timely report",
            "reason": "Reported a hazard",
            "amount_fen": 10_000,
        }
        cadre = auth(org="hzsteel-rolling", roles=["cadre"])
        return (await client.post("/rewards", json=body, headers=cadre)).status_code

    statuses = Counter(await asyncio.gather(*(grant(m) for m in members)))
    quota_now = (
        await client.get(
            "/orgs/hzsteel-rolling/reward-quota",
            headers=auth(org="hzsteel-rolling", roles=["cadre"]),
        )
    ).json()

    assert statuses == {201: 5, 409: 15}
    async with db.reading() as session:
        usage = await session.get(RewardQuotaUsage, ("hzsteel-rolling", "2025-06"))
    assert usage is not None and (usage.used_count, usage.used_fen) == (5, 50_000)
    assert await _count(db, Reward) == 5
    assert await _count(db, MESSAGING.outbox) == 5, "one HonourGranted per reward, no more"
    assert (quota_now["used_count"], quota_now["left_count"]) == (5, 0)
