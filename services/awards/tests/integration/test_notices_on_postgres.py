"""Public notices on PostgreSQL: cadres publishing the same shortlist at once put it on notice
once (the nominations' rows are locked, SELECT … FOR UPDATE, and read afresh); a shortlist
arriving in several messages is stored once (INSERT … ON CONFLICT DO NOTHING); a round's
objections are listed by status a page at a time."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from awards.models import MESSAGING, Nomination, Notice, NoticeEntry, Objection, Review
from awards.service.notices import record_notice
from shared.contracts.envelope import envelope_for
from shared.contracts.events import Nominee, NoticePublished
from shared.contracts.events.nominations import NoticeEntry as Entry

pytestmark = pytest.mark.integration

NOW = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
OWNER = {"org": "hzsteel", "roles": ["cadre"]}


async def test_concurrent_publications_of_one_shortlist_put_it_on_notice_once(
    pg_awards: FastAPI, client, auth, award_rows_of
) -> None:
    rows = award_rows_of(pg_awards)
    scheme_id, round_id = await rows.scheme()
    ids = [
        (await rows.nomination(scheme_id, round_id, status="in_review", notice_ends_at=None))[0]
        for _ in range(3)
    ]
    async with pg_awards.state.runtime.db.transaction() as session:
        session.add_all(
            Review(nomination_id=i, reviewer="rev-a", score=88.0, comment="", at=NOW) for i in ids
        )

    async def publish() -> int:
        body = {"nomination_ids": ids[::-1]}
        response = await client.post(
            f"/rounds/{round_id}/notices", json=body, headers=auth(**OWNER)
        )
        return response.status_code

    statuses = Counter(await asyncio.gather(*(publish() for _ in range(5))))

    assert statuses == {202: 1, 409: 4}
    outbox = MESSAGING.outbox
    async with pg_awards.state.runtime.db.reading() as session:
        on_notice = await session.scalar(
            select(func.count()).where(Nomination.status == "on_notice")
        )
        types = [
            dict(json.loads(h))["ce_type"] for h in await session.scalars(select(outbox.c.headers))
        ]
    assert on_notice == 3
    assert Counter(types)["bigschool.awards.nomination_shortlisted.v1"] == 3


def _part(notice_id: str, nominations: list[str]) -> NoticePublished:
    return NoticePublished(
        notice_id=notice_id, round_id="r-1", scheme_id="s-1", scheme_title="Model worker",
        owner_org="hzsteel", starts_at=NOW, ends_at=NOW + timedelta(days=7),
        entries=[
            Entry(nomination_id=n, home_org="hzsteel-rolling", achievements="Trained twelve.",
                  nominees=[Nominee(member_id=f"m-{n}", display_name="王芳")])
            for n in nominations
        ],
    )  # fmt: skip


async def test_a_shortlist_in_overlapping_messages_is_stored_once(pg_awards: FastAPI) -> None:
    ctx = pg_awards.state.context
    parts = [_part("n-1", ["a", "b"]), _part("n-1", ["b", "c"]), _part("n-1", ["a", "b"])]

    for part in parts:
        env = envelope_for(part, source="bigschool/hzsteel/awards", at=NOW)
        async with pg_awards.state.runtime.db.transaction() as session:
            await record_notice(session, ctx, part, env)

    async with pg_awards.state.runtime.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Notice)) == 1
        entries = await session.scalars(select(NoticeEntry.nomination_id))
        assert sorted(entries) == ["a", "b", "c"]


async def test_a_rounds_open_objections_are_listed_a_page_at_a_time(
    pg_awards: FastAPI, client, auth, award_rows_of
) -> None:
    rows = award_rows_of(pg_awards)
    scheme_id, round_id = await rows.scheme()
    nomination_id, _ = await rows.nomination(scheme_id, round_id, open_objections=2)
    async with pg_awards.state.runtime.db.transaction() as session:
        session.add_all(
            Objection(
                objection_id=f"o-{n}", notice_id="n-1", nomination_id=nomination_id,
                owner_org="hzsteel", objector_id=f"m-{n}", objector_org="hzsteel-rolling",
                reasons="Not so.", status="dismissed" if n == 1 else "open", answer=None,
                submitted_at=NOW + timedelta(minutes=n), resolved_at=None,
            )
            for n in range(3)
        )  # fmt: skip
    url = f"/rounds/{round_id}/objections?status=open&limit=1"

    first = await client.get(url, headers=auth(**OWNER))
    cursor = first.json()["next_cursor"]
    second = await client.get(f"{url}&cursor={cursor}", headers=auth(**OWNER))

    assert [o["objection_id"] for o in first.json()["items"]] == ["o-0"]
    assert [o["objection_id"] for o in second.json()["items"]] == ["o-2"]
