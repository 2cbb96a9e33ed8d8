"""At a node below the owner (hzsteel, for notices of zj and of its own orgs): receiving public
notices, showing them to whom they concern, and members' objections filed here."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from awards.models import MESSAGING, Notice, NoticeEntry
from awards.service.objections import on_objection_resolved
from shared.contracts import topics
from shared.contracts.envelope import envelope_for
from shared.contracts.events import (
    MemberRegistered,
    NominationObjectionResolved,
    NominationState,
    Nominee,
    NoticePublished,
    ObjectionClosed,
)
from shared.contracts.events.nominations import NoticeEntry as Entry
from shared.messaging.consumer import Outcome
from shared.testing import Staged, staged

NODE = "hzsteel"
NOW = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
HOSTS = {"zj": "zj", "hzsteel": NODE, "hzsteel-casting": NODE, "otherco": "oc"}


def _notice(owner: str, *, starts_at: datetime = NOW, entries: int = 2) -> NoticePublished:
    return NoticePublished(
        notice_id=str(uuid.uuid4()),
        round_id=str(uuid.uuid4()),
        scheme_id=str(uuid.uuid4()),
        scheme_title="Model worker 2025",
        owner_org=owner,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(days=7),
        entries=[
            Entry(
                nomination_id=str(uuid.uuid4()),
                home_org="hzsteel-rolling",
                nominees=[Nominee(member_id=str(uuid.uuid4()), display_name="王芳")],
                achievements="Trained twelve apprentices.",
            )
            for _ in range(entries)
        ],
    )


async def _arrive(bus: Any, event: Any, source_node: str) -> Outcome:
    env = envelope_for(event, source=f"bigschool/{source_node}/awards", at=NOW)
    record, _ = bus.record(event, topics.inbox(NODE), envelope=env)
    outcome: Outcome = await bus.deliver("notices", record)
    return outcome


async def _published(bus: Any, owner: str, **kwargs: Any) -> NoticePublished:
    notice = _notice(owner, **kwargs)
    assert await _arrive(bus, notice, HOSTS[owner]) is Outcome.handled
    return notice


async def _member(bus: Any, home_org: str = "hzsteel-rolling") -> dict[str, Any]:
    """A member of this node: the claims of their token."""
    member_id = str(uuid.uuid4())
    joined = MemberRegistered(member_id=member_id, home_org=home_org, name="李雷")
    record, _ = bus.record(joined, topics.members(NODE))
    assert await bus.deliver("members", record) is Outcome.handled
    return {"org": home_org, "roles": ["member"], "member_id": member_id}


async def _outbox(app: FastAPI) -> list[Staged]:
    return await staged(app.state.runtime.db, MESSAGING.outbox)


async def _object(client: Any, auth: Any, who: dict[str, Any], notice: NoticePublished) -> Any:
    return await client.post(
        f"/notices/{notice.notice_id}/objections",
        json={"nomination_id": notice.entries[0].nomination_id, "reasons": "Not true.\nAsk."},
        headers=auth(**who),
    )


async def test_a_notice_is_stored_once_however_often_it_arrives(app, bus) -> None:
    notice = _notice("zj")

    outcomes = [await _arrive(bus, notice, "zj") for _ in range(2)]  # two messages, same notice

    assert outcomes == [Outcome.handled, Outcome.handled]
    async with app.state.runtime.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Notice)) == 1
        assert await session.scalar(select(func.count()).select_from(NoticeEntry)) == 2


async def test_a_notice_from_a_node_not_hosting_its_owner_is_dead_lettered(app, bus) -> None:
    assert await _arrive(bus, _notice("zj"), "oc") is Outcome.dead_lettered
    async with app.state.runtime.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Notice)) == 0


async def test_a_notice_is_shown_at_and_below_its_owner_and_404_elsewhere(
    app, bus, client, auth
) -> None:
    casting = await _published(bus, "hzsteel-casting")
    below = await _member(bus, "hzsteel-casting")
    elsewhere = await _member(bus, "hzsteel-rolling")

    shown = await client.get(f"/notices/{casting.notice_id}", headers=auth(**below))
    hidden = await client.get(f"/notices/{casting.notice_id}", headers=auth(**elsewhere))
    above = await client.get(
        f"/notices/{casting.notice_id}", headers=auth(org="hzsteel", roles=["cadre"])
    )

    assert shown.status_code == 200
    assert shown.json()["open"] is True
    assert shown.json()["entries"][0]["nominees"][0]["display_name"] == "王芳"
    assert (hidden.status_code, above.status_code) == (404, 404)


async def test_notices_are_listed_newest_first_a_page_at_a_time(app, bus, client, auth) -> None:
    member = await _member(bus, "hzsteel-casting")
    older = await _published(bus, "zj", starts_at=NOW - timedelta(days=2))
    newer = await _published(bus, "hzsteel", starts_at=NOW - timedelta(days=1))
    newest = await _published(bus, "hzsteel-casting")
    await _published(bus, "otherco")  # not above the member: never listed

    first = await client.get("/notices?limit=2", headers=auth(**member))
    cursor = first.json()["next_cursor"]
    second = await client.get(f"/notices?limit=2&cursor={cursor}", headers=auth(**member))

    assert [n["notice_id"] for n in first.json()["items"]] == [newest.notice_id, newer.notice_id]
    assert [n["notice_id"] for n in second.json()["items"]] == [older.notice_id]
    assert second.json()["next_cursor"] is None


async def test_an_objection_within_the_period_is_forwarded_to_the_owners_inbox(
    app, bus, client, auth
) -> None:
    notice = await _published(bus, "zj")
    member = await _member(bus)

    filed = await _object(client, auth, member, notice)

    assert filed.status_code == 202, filed.text
    assert filed.headers["Location"] == f"/objections/{filed.json()['objection_id']}"
    assert filed.json()["status"] == "open"
    [(topic, ce_type, body)] = await _outbox(app)
    assert (topic, ce_type) == (topics.inbox("zj"), "bigschool.awards.objection_submitted.v1")
    assert (body["objector_id"], body["objector_org"]) == (member["member_id"], "hzsteel-rolling")


async def test_an_objection_after_the_notice_ended_is_409_and_goes_nowhere(
    app, bus, client, auth
) -> None:
    notice = await _published(bus, "zj")
    member = await _member(bus)
    app.state.context.clock.at = notice.ends_at

    filed = await _object(client, auth, member, notice)

    assert filed.status_code == 409
    assert filed.json()["detail"].startswith("the notice period has ended")
    assert await _outbox(app) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reasons": "   "}, "reasons"),
        ({"reasons": "x" * 4001}, "reasons"),
        ({"nomination_id": "not-on-the-notice"}, "nomination_id"),
    ],
)
async def test_an_objection_needs_reasons_and_a_nomination_on_the_notice(
    app, bus, client, auth, change: dict[str, str], field: str
) -> None:
    notice = await _published(bus, "zj")
    member = await _member(bus)
    body = {"nomination_id": notice.entries[0].nomination_id, "reasons": "Not true."} | change

    filed = await client.post(
        f"/notices/{notice.notice_id}/objections", json=body, headers=auth(**member)
    )

    assert filed.status_code == 422
    assert field in json.dumps(filed.json())
    assert await _outbox(app) == []


def _resolved(objection_id: str, notice: NoticePublished) -> NominationObjectionResolved:
    entry = notice.entries[0]
    state = NominationState(
        nomination_id=entry.nomination_id, scheme_id=notice.scheme_id, round_id=notice.round_id,
        owner_org=notice.owner_org, home_org=entry.home_org, nominee="member",
        member_ids=[entry.nominees[0].member_id], status="withdrawn", notice_ends_at=notice.ends_at,
    )  # fmt: skip
    return NominationObjectionResolved(
        state=state, step=8, actor="zj-cadre", actor_org="zj", at=NOW + timedelta(days=1),
        reason="Upheld: the record shows it.", objection_id=objection_id,
        objector_org="hzsteel-rolling", upheld=True,
    )  # fmt: skip


async def test_the_objector_sees_the_owners_answer_when_the_step_arrives(
    app, bus, client, auth
) -> None:
    notice = await _published(bus, "zj")
    member = await _member(bus)
    objection_id = (await _object(client, auth, member, notice)).json()["objection_id"]

    async with app.state.runtime.db.transaction() as session:
        await on_objection_resolved(session, app.state.context, _resolved(objection_id, notice))

    seen = await client.get(f"/objections/{objection_id}", headers=auth(**member))
    assert seen.status_code == 200
    assert (seen.json()["status"], seen.json()["answer"]) == (
        "upheld",
        "Upheld: the record shows it.",
    )
    assert seen.json()["resolved_at"] is not None


async def test_an_objection_dismissed_on_arrival_shows_the_owners_answer(
    app, bus, client, auth
) -> None:
    notice = await _published(bus, "zj")
    member = await _member(bus)
    objection_id = (await _object(client, auth, member, notice)).json()["objection_id"]
    closed = ObjectionClosed(
        objection_id=objection_id, nomination_id=notice.entries[0].nomination_id,
        owner_org="zj", objector_org="hzsteel-rolling", answer="filed after the notice period",
        closed_at=NOW,
    )  # fmt: skip

    assert await _arrive(bus, closed, "zj") is Outcome.handled

    seen = await client.get(f"/objections/{objection_id}", headers=auth(**member))
    assert (seen.json()["status"], seen.json()["answer"]) == (
        "dismissed",
        "filed after the notice period",
    )


# A notice of hzsteel (owned at this node): who may read it, object to it, read the objection.
CALLERS = {
    "member": (None, 200, 202, 200),
    "grassroots cadre": ({"org": "hzsteel-rolling", "roles": ["cadre"]}, 200, 403, 404),
    "enterprise (owner) cadre": ({"org": "hzsteel", "roles": ["cadre"]}, 200, 403, 200),
    "superior cadre": ({"org": "zj", "roles": ["cadre"]}, 404, 404, 404),
    "reviewer": ({"org": "zj", "roles": ["reviewer"], "sub": "rev-a"}, 404, 404, 404),
    "other-org cadre": ({"org": "otherco", "roles": ["cadre"]}, 404, 404, 404),
    "other-org member": (
        {"org": "otherco-line", "roles": ["member"], "member_id": str(uuid.uuid4())},
        404,
        404,
        404,
    ),
}


@pytest.mark.parametrize("caller", CALLERS)
async def test_access_to_notices_and_objections(app, bus, client, auth, caller: str) -> None:
    claims, reading, objecting, reading_objection = CALLERS[caller]
    notice = await _published(bus, "hzsteel")
    objector = await _member(bus)
    objection_id = (await _object(client, auth, objector, notice)).json()["objection_id"]
    who = claims or await _member(bus)

    read = await client.get(f"/notices/{notice.notice_id}", headers=auth(**who))
    filed = await _object(client, auth, who, notice)
    seen = await client.get(f"/objections/{objection_id}", headers=auth(**(claims or objector)))

    assert (read.status_code, filed.status_code, seen.status_code) == (
        reading,
        objecting,
        reading_objection,
    )
