"""A scheme budget is never overrun on PostgreSQL: concurrent grants lock the round and the
scheme row (SELECT … FOR UPDATE, read afresh) and count one after the other; a decision racing
the round's publication never deadlocks; two stipend jobs at once pay each payment once."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from awards.models import MESSAGING, Nomination, Scheme
from awards.service.stipends import StipendPayments

pytestmark = pytest.mark.integration

NOW = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
OWNER = {"org": "hzsteel", "roles": ["cadre"]}
GRANT = {"granted": True, "reasons": "Cut the scrap rate by a third."}


async def test_ten_concurrent_grants_against_a_budget_for_four_reserve_exactly_four(
    pg_awards: FastAPI, client, auth, award_rows_of
) -> None:
    rows = award_rows_of(pg_awards)
    scheme_id, round_id = await rows.scheme(cash_fen=500_000, budget_fen=2_499_999)
    ids = [(await rows.nomination(scheme_id, round_id))[0] for _ in range(10)]

    async def grant(nomination_id: str) -> int:
        url = f"/nominations/{nomination_id}/decision"
        return (await client.post(url, json=GRANT, headers=auth(**OWNER))).status_code

    statuses = Counter(await asyncio.gather(*(grant(i) for i in ids)))

    assert statuses == {200: 4, 409: 6}
    async with pg_awards.state.runtime.db.reading() as session:
        scheme = await session.get(Scheme, scheme_id)
        granted = await session.execute(
            select(func.count()).where(Nomination.decision == "granted")
        )
    assert scheme is not None and scheme.committed_fen == 2_000_000
    assert granted.scalar_one() == 4


async def test_a_decision_racing_the_publication_is_either_in_it_or_refused(
    pg_awards: FastAPI, client, auth, award_rows_of
) -> None:
    rows = award_rows_of(pg_awards)
    for _ in range(5):
        scheme_id, round_id = await rows.scheme()
        decided, _ = await rows.nomination(scheme_id, round_id)
        last, _ = await rows.nomination(scheme_id, round_id)
        url = f"/nominations/{decided}/decision"
        assert (await client.post(url, json=GRANT, headers=auth(**OWNER))).status_code == 200

        decision, publication = await asyncio.gather(
            client.post(f"/nominations/{last}/decision", json=GRANT, headers=auth(**OWNER)),
            client.post(f"/rounds/{round_id}/publish", headers=auth(**OWNER)),
        )

        # Publication first: `last` was undecided, so it is refused and the decision goes
        # through; decision first: publication includes both. Never both refused, never a 500.
        assert decision.status_code == 200, decision.text
        assert publication.status_code in (200, 409), publication.text
        if publication.status_code == 200:
            assert publication.json()["granted"] == 2


async def test_two_stipend_jobs_at_once_pay_each_payment_once(
    pg_awards: FastAPI, client, auth, award_rows_of
) -> None:
    rows = award_rows_of(pg_awards)
    scheme_id, round_id = await rows.scheme(stipend={"yearly_fen": 100_000, "years": 3})
    for _ in range(4):
        nomination_id, _ = await rows.nomination(scheme_id, round_id)
        url = f"/nominations/{nomination_id}/decision"
        assert (await client.post(url, json=GRANT, headers=auth(**OWNER))).status_code == 200
    assert (
        await client.post(f"/rounds/{round_id}/publish", headers=auth(**OWNER))
    ).status_code == 200
    ctx, db = pg_awards.state.context, pg_awards.state.runtime.db
    ctx.clock.at = NOW + timedelta(days=3 * 365)

    paid = await asyncio.gather(
        StipendPayments(db, ctx, batch=2).run_once(), StipendPayments(db, ctx, batch=5).run_once()
    )

    assert sum(paid) == 4 * 3
    outbox = MESSAGING.outbox
    async with db.reading() as session:
        bodies = [
            json.loads(p) for p in (await session.execute(select(outbox.c.payload))).scalars()
        ]
        scheme = await session.get(Scheme, scheme_id)
    stipends = [b for b in bodies if b.get("kind") == "stipend"]
    assert len(stipends) == 12 and len({b["honour_id"] for b in stipends}) == 12
    assert scheme is not None and scheme.paid_fen == 4 * 500_000 + 12 * 100_000
