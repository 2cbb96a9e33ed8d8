"""At the scheme's owner (hzsteel, hosted by this node): publishing a round's shortlist as a
public notice, the objections that reach the owner, and how its cadres answer them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from awards.models import Nomination, Objection, Review, Scheme
from awards.service import notices
from shared.contracts import topics
from shared.contracts.envelope import envelope_for
from shared.contracts.events import MemberRegistered, ObjectionSubmitted, OrgLevel, OrgRegistered
from shared.messaging.consumer import Outcome
from shared.testing import FakeRecord

NODE = "hzsteel"
NOW = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
OWNER = "hzsteel"
HOME = "hzsteel-rolling"


Seed = Callable[..., Awaitable[tuple[str, list[str]]]]


@pytest.fixture
def seed(app: FastAPI, award_rows: Any) -> Seed:
    """`await seed([2, 1], status="in_review")`: a round of a scheme of hzsteel (2 reviews
    needed, 7 notice days) with one nomination per entry, that many reviews each; returns
    (round, nominations)."""

    async def make(reviews: list[int], status: str = "in_review") -> tuple[str, list[str]]:
        scheme_id, round_id = await award_rows.scheme()
        ids = [
            (await award_rows.nomination(scheme_id, round_id, status=status, notice_ends_at=None))[
                0
            ]
            for _ in reviews
        ]
        async with app.state.runtime.db.transaction() as session:
            scheme = await session.get(Scheme, scheme_id)
            assert scheme is not None
            scheme.min_reviews = 2
            session.add_all(
                Review(
                    nomination_id=nomination_id, reviewer=f"rev-{n}", score=90.0, comment="", at=NOW
                )
                for nomination_id, count in zip(ids, reviews, strict=True)
                for n in range(count)
            )
        return round_id, ids

    return make


async def _outbox(app: FastAPI) -> list[dict[str, Any]]:
    """What this node staged: topic, type and body of each message, in order."""
    table = app.state.context.outbox.tables.outbox
    async with app.state.runtime.db.reading() as session:
        rows = (await session.execute(select(table).order_by(table.c.seq))).all()
    return [
        {"topic": r.topic, "type": dict(json.loads(r.headers))["ce_type"], "row": r}
        | {"body": json.loads(r.payload)}
        for r in rows
    ]


async def _nomination(app: FastAPI, nomination_id: str) -> Nomination:
    async with app.state.runtime.db.reading() as session:
        row = await session.get(Nomination, nomination_id)
    assert row is not None
    return row


async def _deliver_notices(app: FastAPI, bus: Any) -> None:
    """Our own inbox: what we staged for it, to the `notices` consumer."""
    for message in await _outbox(app):
        if message["topic"] == topics.inbox(NODE):
            row = message["row"]
            headers = [(k, str(v).encode()) for k, v in json.loads(row.headers)]
            record = FakeRecord(row.topic, 0, row.seq, row.key.encode(), row.payload, headers)
            assert await bus.deliver("notices", record) is Outcome.handled


OWNER_CADRE = {"org": OWNER, "roles": ["cadre"]}


async def _publish(client: Any, auth: Any, round_id: str, ids: list[str], **who: Any) -> Any:
    return await client.post(
        f"/rounds/{round_id}/notices",
        json={"nomination_ids": ids},
        headers=auth(**(who or OWNER_CADRE)),
    )


async def test_publishing_puts_the_shortlist_on_notice_for_the_schemes_notice_days(
    app, seed, bus, client, auth
) -> None:
    round_id, [first, second] = await seed([2, 3])

    response = await _publish(client, auth, round_id, [first, second])

    assert response.status_code == 202, response.text
    notice_id = response.json()["notice_id"]
    assert response.headers["Location"] == f"/notices/{notice_id}"
    assert response.json()["ends_at"] == (NOW + timedelta(days=7)).isoformat().replace(
        "+00:00", "Z"
    )
    for nomination_id in (first, second):
        row = await _nomination(app, nomination_id)
        assert (row.status, row.notice_ends_at) == ("on_notice", NOW + timedelta(days=7))
    steps = [m for m in await _outbox(app) if m["topic"] == topics.AWARDS]
    assert [s["type"] for s in steps] == ["bigschool.awards.nomination_shortlisted.v1"] * 2
    assert {s["body"]["notice_id"] for s in steps} == {notice_id}


async def test_a_nomination_with_too_few_reviews_is_409_naming_it_and_nothing_changes(
    app, seed, bus, client, auth
) -> None:
    round_id, [enough, short] = await seed([2, 1])

    response = await _publish(client, auth, round_id, [enough, short])

    assert response.status_code == 409
    assert short in response.json()["detail"] and "1 review" in response.json()["detail"]
    assert (await _nomination(app, enough)).status == "in_review"
    assert await _outbox(app) == []


async def test_a_nomination_not_in_review_is_409(app, seed, bus, client, auth) -> None:
    round_id, [vetoed] = await seed([2], status="vetoed")

    response = await _publish(client, auth, round_id, [vetoed])

    assert response.status_code == 409
    assert "vetoed, not in_review" in response.json()["detail"]


async def test_a_nomination_of_another_round_is_422_naming_the_field(
    app, seed, bus, client, auth
) -> None:
    round_id, _ = await seed([2])
    _, [elsewhere] = await seed([2])

    response = await _publish(client, auth, round_id, [elsewhere])

    assert response.status_code == 422
    assert response.json()["detail"].startswith("nomination_ids:")


async def test_the_notice_goes_to_the_inbox_of_each_node_of_the_owners_subtree_only(
    app, seed, bus, client, auth
) -> None:
    # A workshop of hzsteel running its own node: part of the owner's subtree.
    lab = OrgRegistered(
        org_id="hzsteel-lab", name="Lab", parent_id=OWNER, level=OrgLevel.grassroots,
        hosted_by="hzlab",
    )  # fmt: skip
    assert (await bus.publish(lab))[0] is Outcome.handled
    round_id, ids = await seed([2])

    assert (await _publish(client, auth, round_id, ids)).status_code == 202

    published = [m for m in await _outbox(app) if m["type"].endswith("notice_published.v1")]
    assert sorted(m["topic"] for m in published) == [topics.inbox("hzlab"), topics.inbox(NODE)]
    assert published[0]["body"]["entries"][0]["nominees"][0]["display_name"] == "王芳"
    steps = [m for m in await _outbox(app) if m["topic"] == topics.AWARDS]
    assert steps and all("王芳" not in json.dumps(m["body"]) for m in steps)


async def test_a_long_shortlist_travels_in_several_messages_stored_as_one_notice(
    app, seed, bus, client, auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notices, "NOTICE_BYTES", 500)  # two entries (240 bytes each)
    round_id, ids = await seed([2] * 5)

    response = await _publish(client, auth, round_id, ids)
    await _deliver_notices(app, bus)

    parts = [m for m in await _outbox(app) if m["type"].endswith("notice_published.v1")]
    assert len(parts) == 3
    shown = await client.get(
        f"/notices/{response.json()['notice_id']}", headers=auth(org=HOME, roles=["cadre"])
    )
    assert shown.status_code == 200
    assert shown.json()["entries_total"] == 5
    assert sorted(e["nomination_id"] for e in shown.json()["entries"]) == sorted(ids)


async def _register(bus: Any, home_org: str = HOME) -> str:
    member_id = str(uuid.uuid4())
    joined = MemberRegistered(member_id=member_id, home_org=home_org, name="李雷")
    record, _ = bus.record(joined, topics.members(NODE))
    assert await bus.deliver("members", record) is Outcome.handled
    return member_id


async def _objected(app, seed, bus, client, auth) -> tuple[str, str, str]:
    """A notice of one nomination, published and arrived here; an objection by a member of
    this node, arrived at the owner (here too): (nomination, objection, objector)."""
    round_id, [nomination_id] = await seed([2])
    notice_id = (await _publish(client, auth, round_id, [nomination_id])).json()["notice_id"]
    await _deliver_notices(app, bus)
    member_id = await _register(bus)
    before = {m["row"].id for m in await _outbox(app)}
    filed = await client.post(
        f"/notices/{notice_id}/objections",
        json={"nomination_id": nomination_id, "reasons": "He was absent for half the year."},
        headers=auth(org=HOME, roles=["member"], member_id=member_id),
    )
    assert filed.status_code == 202, filed.text
    for message in await _outbox(app):
        if message["row"].id not in before:
            assert message["topic"] == topics.inbox(NODE)  # the owner's node
            event = ObjectionSubmitted.model_validate(message["body"])
            env = envelope_for(event, source=f"bigschool/{NODE}/awards", at=NOW)
            record, _ = bus.record(event, topics.inbox(NODE), envelope=env)
            assert await bus.deliver("notices", record) is Outcome.handled
    return nomination_id, filed.json()["objection_id"], member_id


async def test_an_objection_reaching_the_owner_opens_on_the_nomination(
    app, seed, bus, client, auth
) -> None:
    nomination_id, objection_id, _ = await _objected(app, seed, bus, client, auth)

    row = await _nomination(app, nomination_id)
    assert (row.status, row.open_objections) == ("on_notice", 1)
    listed = await client.get(
        f"/rounds/{row.round_id}/objections?status=open", headers=auth(**OWNER_CADRE)
    )
    assert listed.status_code == 200
    assert [o["objection_id"] for o in listed.json()["items"]] == [objection_id]


async def test_an_upheld_objection_withdraws_the_nomination_and_the_objector_sees_the_answer(
    app, seed, bus, client, auth
) -> None:
    nomination_id, objection_id, member_id = await _objected(app, seed, bus, client, auth)

    resolved = await client.post(
        f"/objections/{objection_id}/resolve",
        json={"upheld": True, "answer": "Confirmed with the workshop's attendance record."},
        headers=auth(**OWNER_CADRE),
    )

    assert resolved.status_code == 200, resolved.text
    row = await _nomination(app, nomination_id)
    assert (row.status, row.open_objections) == ("withdrawn", 0)
    seen = await client.get(
        f"/objections/{objection_id}", headers=auth(org=HOME, roles=["member"], member_id=member_id)
    )
    assert (seen.json()["status"], seen.json()["answer"]) == (
        "upheld",
        "Confirmed with the workshop's attendance record.",
    )


async def test_a_dismissed_objection_leaves_the_nomination_on_notice(
    app, seed, bus, client, auth
) -> None:
    nomination_id, objection_id, _ = await _objected(app, seed, bus, client, auth)
    body = {"upheld": False, "answer": "He was on an approved secondment."}

    first = await client.post(
        f"/objections/{objection_id}/resolve", json=body, headers=auth(**OWNER_CADRE)
    )
    again = await client.post(
        f"/objections/{objection_id}/resolve", json=body, headers=auth(**OWNER_CADRE)
    )

    assert (first.status_code, first.json()["status"]) == (200, "dismissed")
    assert again.status_code == 409
    row = await _nomination(app, nomination_id)
    assert (row.status, row.open_objections) == ("on_notice", 0)


@pytest.mark.parametrize(
    ("shortlisted", "filed_after", "answer"),
    [
        (True, timedelta(days=8), "filed after the notice period"),
        (False, timedelta(0), "not taken up: the nomination is in_review, not on_notice"),
    ],
)
async def test_an_objection_that_may_not_open_is_dismissed_on_arrival_without_a_step(
    app, seed, bus, client, auth, shortlisted: bool, filed_after: timedelta, answer: str
) -> None:
    round_id, [nomination_id] = await seed([2])
    if shortlisted:
        assert (await _publish(client, auth, round_id, [nomination_id])).status_code == 202
    step = (await _nomination(app, nomination_id)).step
    late = ObjectionSubmitted(
        objection_id=str(uuid.uuid4()), notice_id=str(uuid.uuid4()), nomination_id=nomination_id,
        owner_org=OWNER, objector_id=str(uuid.uuid4()), objector_org=HOME,
        reasons="Too late.", submitted_at=NOW + filed_after,
    )  # fmt: skip
    env = envelope_for(late, source=f"bigschool/{NODE}/awards", at=NOW)
    record, _ = bus.record(late, topics.inbox(NODE), envelope=env)

    assert await bus.deliver("notices", record) is Outcome.handled

    row = await _nomination(app, nomination_id)
    assert (row.step, row.open_objections) == (step, 0)
    async with app.state.runtime.db.reading() as session:
        objection = await session.get(Objection, late.objection_id)
    assert objection is not None
    assert (objection.status, objection.answer) == ("dismissed", answer)
    closed = [m for m in await _outbox(app) if m["type"].endswith("objection_closed.v1")]
    assert [m["topic"] for m in closed] == [topics.inbox(NODE)]  # the objector's node


async def test_an_objection_from_a_node_not_hosting_the_objector_is_dead_lettered(
    app, seed, bus, client, auth
) -> None:
    round_id, [nomination_id] = await seed([2])
    notice_id = (await _publish(client, auth, round_id, [nomination_id])).json()["notice_id"]
    forged = ObjectionSubmitted(
        objection_id=str(uuid.uuid4()), notice_id=notice_id, nomination_id=nomination_id,
        owner_org=OWNER, objector_id=str(uuid.uuid4()), objector_org=HOME,
        reasons="Forged.", submitted_at=NOW,
    )  # fmt: skip
    env = envelope_for(forged, source="bigschool/oc/awards", at=NOW)
    record, _ = bus.record(forged, topics.inbox(NODE), envelope=env)

    assert await bus.deliver("notices", record) is Outcome.dead_lettered
    assert (await _nomination(app, nomination_id)).open_objections == 0


# Who may publish, list the round's objections, answer one: 404 for those who may not see the
# scheme (its owner's subtree sees it) or the objection, 403 for those who may see but not act.
CALLERS = {
    "member": ({"org": HOME, "roles": ["member"], "member_id": str(uuid.uuid4())}, 403, 403, 404),
    "grassroots cadre": ({"org": HOME, "roles": ["cadre"]}, 403, 403, 404),
    "enterprise (owner) cadre": (OWNER_CADRE, 202, 200, 200),
    "superior cadre": ({"org": "zj", "roles": ["cadre"]}, 404, 404, 404),
    "reviewer": ({"org": "zj", "roles": ["reviewer"], "sub": "rev-a"}, 404, 404, 404),
    "other-org cadre": ({"org": "otherco", "roles": ["cadre"]}, 404, 404, 404),
}


@pytest.mark.parametrize("caller", CALLERS)
async def test_access_to_publishing_and_answering(
    app, seed, bus, client, auth, caller: str
) -> None:
    who, publishing, listing, answering = CALLERS[caller]
    _, objection_id, _ = await _objected(app, seed, bus, client, auth)
    round_id, ids = await seed([2])
    answer = {"upheld": False, "answer": "Checked."}

    published = await _publish(client, auth, round_id, ids, **who)
    listed = await client.get(f"/rounds/{round_id}/objections", headers=auth(**who))
    answered = await client.post(
        f"/objections/{objection_id}/resolve", json=answer, headers=auth(**who)
    )

    assert (published.status_code, listed.status_code, answered.status_code) == (
        publishing,
        listing,
        answering,
    )
    expected = "on_notice" if publishing == 202 else "in_review"
    assert (await _nomination(app, ids[0])).status == expected


async def test_the_objector_may_read_but_not_answer_their_objection(
    app, seed, bus, client, auth
) -> None:
    _, objection_id, member_id = await _objected(app, seed, bus, client, auth)
    objector = auth(org=HOME, roles=["member"], member_id=member_id)

    answered = await client.post(
        f"/objections/{objection_id}/resolve",
        json={"upheld": True, "answer": "Mine."},
        headers=objector,
    )

    assert answered.status_code == 403
    assert (await client.get(f"/objections/{objection_id}", headers=objector)).status_code == 200
