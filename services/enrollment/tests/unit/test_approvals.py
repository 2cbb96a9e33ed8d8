"""Approval by the member's grassroots cadre at the home node: a request for a programme that
needs it waits here (nothing reaches the owner, no seat is held) until the cadre approves —
then it is forwarded exactly like any request — or rejects, and the owner never hears of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from enrollment.models import Enrollment
from enrollment.service.programmes import copy_programme
from shared.clock import FixedClock
from shared.contracts import topics
from shared.contracts.events import ProgrammePublished, QualityArea

PROBLEM = "application/problem+json"
NAME = "Wang Xiaoming"
REMOTE = "7d1c2a7e-0000-4000-8000-00000000a11c"  # owned by node cn, needs approval
DIRECT = "7d1c2a7e-0000-4000-8000-00000000d1c7"  # owned by node cn, no approval
NOW = datetime(2030, 3, 1, 2, 0, tzinfo=UTC)
INBOX = topics.inbox("cn")


def _published(programme_id: str, requires_approval: bool) -> ProgrammePublished:
    return ProgrammePublished(
        programme_id=programme_id,
        owner_org="cn",
        owner_node="cn",
        title="National ethics lecture",
        kind="lecture",
        quality_area=QualityArea.ethics,
        audience=["zj"],
        capacity=100,
        hours=2,
        starts_at=datetime(2030, 6, 1, tzinfo=UTC),
        ends_at=datetime(2030, 6, 1, 2, tzinfo=UTC),
        requires_approval=requires_approval,
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def home(settings, make_service, clock):
    """Node zj with copies of two programmes of node cn: one needs approval, one does not."""
    service = await make_service(settings, clock)
    async with service.db.transaction() as session:
        await copy_programme(session, service.ctx, _published(REMOTE, True))
        await copy_programme(session, service.ctx, _published(DIRECT, False))
    return service


async def _member(service, token, home_org: str = "hzsteel-rolling", name: str = NAME) -> str:
    body = {"home_org": home_org, "name": name, "email": "wang@hzsteel.example"}
    response = await service.client.post("/members", json=body, headers=token(home_org, "cadre"))
    assert response.status_code == 201, response.text
    return str(response.json()["member_id"])


async def _enrol(
    service, token, member_id: str, programme_id: str = REMOTE, org: str = "hzsteel-rolling"
) -> dict[str, Any]:
    response = await service.client.post(
        "/enrollments",
        json={"programme_id": programme_id},
        headers=token(org, "member", member_id=member_id),
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


async def _decide(service, headers, enrollment_id: str, **body: Any):
    return await service.client.post(
        f"/enrollments/{enrollment_id}/approval", json=body, headers=headers
    )


def _of(rows, *, topic: str | None = None, type_: str | None = None) -> list[Any]:
    return [r for r in rows if (topic is None or r.topic == topic) and (type_ in (None, r.type))]


@pytest.fixture
async def pending(home, token) -> tuple[str, str]:
    """A member of hzsteel-rolling asked for a seat of the programme that needs approval."""
    member_id = await _member(home, token)
    enrollment = await _enrol(home, token, member_id)
    return member_id, enrollment["id"]


# -- the request waits at the home node ------------------------------------------------------


async def test_a_request_that_needs_approval_is_recorded_as_pending(home, token, pending) -> None:
    member_id, enrollment_id = pending

    polled = await home.client.get(
        f"/enrollments/{enrollment_id}",
        headers=token("hzsteel-rolling", "member", member_id=member_id),
    )

    assert polled.json()["status"] == "pending_approval"


async def test_a_pending_request_is_announced_on_the_enrollment_topic_and_not_sent_to_the_owner(
    home, outbox, pending
) -> None:
    member_id, enrollment_id = pending

    rows = _of(await outbox(home.db), type_=None)
    assert _of(rows, topic=INBOX) == []
    [announced] = _of(rows, type_="bigschool.enrollment.pending_approval.v1")
    assert announced.topic == topics.ENROLLMENT
    assert announced.key == REMOTE
    assert announced.headers["ce_subject"] == enrollment_id
    assert announced.payload["owner_org"] == "cn"
    assert announced.payload["home_org"] == "hzsteel-rolling"
    assert announced.payload["member_id"] == member_id
    assert NAME not in announced.raw_payload + announced.raw_headers


async def test_the_cadre_lists_the_orgs_pending_approvals_with_names(home, token, pending) -> None:
    member_id, enrollment_id = pending

    response = await home.client.get(
        "/approvals", params={"org": "hzsteel-rolling"}, headers=token("hzsteel-rolling", "cadre")
    )

    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    assert item["id"] == enrollment_id
    assert item["member_id"] == member_id
    assert item["member_name"] == NAME
    assert item["programme_title"] == "National ethics lecture"
    assert item["status"] == "pending_approval"
    assert response.json()["next_cursor"] is None


async def test_the_list_defaults_to_the_cadres_own_org(home, token, pending) -> None:
    response = await home.client.get("/approvals", headers=token("hzsteel-rolling", "cadre"))

    assert [i["id"] for i in response.json()["items"]] == [pending[1]]


async def test_pending_approvals_come_oldest_first_in_cursor_pages(home, token, clock) -> None:
    created = []
    for n in range(5):
        clock.at = NOW + timedelta(minutes=5 - n)  # ask in reverse time order
        member_id = await _member(home, token, name=f"Member {n}")
        created.append((clock.at, (await _enrol(home, token, member_id))["id"]))
    cadre = token("hzsteel-rolling", "cadre")

    seen, sizes, cursor = [], [], None
    while True:
        params = {"org": "hzsteel-rolling", "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await home.client.get("/approvals", params=params, headers=cadre)).json()
        seen += [i["id"] for i in page["items"]]
        sizes.append(len(page["items"]))
        if (cursor := page["next_cursor"]) is None:
            break

    assert sizes == [2, 2, 1]
    assert seen == [enrollment_id for _, enrollment_id in sorted(created)]


async def test_the_list_holds_only_pending_requests_of_the_org(home, token, pending) -> None:
    other = await _member(home, token, home_org="hzsteel-casting", name="Li Na")
    await _enrol(home, token, other, org="hzsteel-casting")
    direct = await _member(home, token, name="Zhao Lei")
    await _enrol(home, token, direct, programme_id=DIRECT)

    rolling = await home.client.get(
        "/approvals", params={"org": "hzsteel-rolling"}, headers=token("hzsteel-rolling", "cadre")
    )

    assert [i["id"] for i in rolling.json()["items"]] == [pending[1]]


# -- approve: forwarded exactly once, like any request ---------------------------------------


async def test_an_approved_request_goes_to_the_owner_exactly_once(
    home, token, outbox, pending
) -> None:
    _, enrollment_id = pending

    response = await _decide(
        home, token("hzsteel-rolling", "cadre", sub="cadre-1"), enrollment_id, approve=True
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "requested"
    rows = await outbox(home.db)
    [request] = _of(rows, topic=INBOX)
    assert request.type == "bigschool.enrollment.requested.v1"
    assert request.key == REMOTE
    assert request.payload["enrollment_id"] == enrollment_id
    assert request.payload["display_name"] == NAME
    [approved] = _of(rows, type_="bigschool.enrollment.approved.v1")
    assert approved.topic == topics.ENROLLMENT
    assert approved.key == REMOTE
    assert approved.payload["owner_org"] == "cn"
    assert approved.payload["approved_at"].startswith("2030-03-01T02:00")


async def test_an_approved_request_is_the_same_message_as_an_unapproved_one(
    home, token, outbox, pending
) -> None:
    _, enrollment_id = pending
    direct = await _member(home, token, name="Zhao Lei")
    await _enrol(home, token, direct, programme_id=DIRECT)

    await _decide(home, token("hzsteel-rolling", "cadre"), enrollment_id, approve=True)

    approved, unapproved = sorted(
        _of(await outbox(home.db), topic=INBOX), key=lambda r: r.key != REMOTE
    )
    assert set(approved.payload) == set(unapproved.payload)
    for header in ("ce_type", "ce_source", "ce_dataschema", "bigschool_orgs"):
        assert approved.headers[header] == unapproved.headers[header]


async def test_the_member_sees_the_approved_request_and_the_cadres_note(
    home, token, pending
) -> None:
    member_id, enrollment_id = pending
    await _decide(
        home, token("hzsteel-rolling", "cadre"), enrollment_id, approve=True, reason="Go for it"
    )

    polled = await home.client.get(
        f"/enrollments/{enrollment_id}",
        headers=token("hzsteel-rolling", "member", member_id=member_id),
    )

    assert polled.json()["status"] == "requested"
    assert polled.json()["approval_note"] == "Go for it"


async def test_an_approved_request_leaves_the_pending_list(home, token, pending) -> None:
    cadre = token("hzsteel-rolling", "cadre")
    await _decide(home, cadre, pending[1], approve=True)

    listed = await home.client.get("/approvals", params={"org": "hzsteel-rolling"}, headers=cadre)

    assert listed.json()["items"] == []


# -- reject: the owner never hears of it -----------------------------------------------------


async def test_a_rejected_request_never_reaches_the_owner(home, token, outbox, pending) -> None:
    member_id, enrollment_id = pending

    response = await _decide(
        home, token("hzsteel-rolling", "cadre"), enrollment_id, approve=False, reason="Shift work"
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "rejected"
    rows = await outbox(home.db)
    assert _of(rows, topic=INBOX) == []
    assert all(r.type != "bigschool.enrollment.requested.v1" for r in rows)
    [rejected] = _of(rows, type_="bigschool.enrollment.rejected.v1")
    assert rejected.topic == topics.ENROLLMENT
    assert rejected.key == REMOTE
    assert rejected.payload["reason"] == "Shift work"
    polled = await home.client.get(
        f"/enrollments/{enrollment_id}",
        headers=token("hzsteel-rolling", "member", member_id=member_id),
    )
    assert polled.json()["status"] == "rejected"
    assert polled.json()["approval_note"] == "Shift work"
    assert polled.json()["decided_at"] is not None


async def test_a_member_whose_request_was_rejected_may_ask_again(home, token, pending) -> None:
    member_id, enrollment_id = pending
    await _decide(home, token("hzsteel-rolling", "cadre"), enrollment_id, approve=False)

    again = await _enrol(home, token, member_id)

    assert again["status"] == "pending_approval"
    assert again["id"] != enrollment_id


async def test_a_rejection_may_come_without_a_reason(home, token, outbox, pending) -> None:
    response = await _decide(home, token("hzsteel-rolling", "cadre"), pending[1], approve=False)

    assert response.status_code == 200
    [rejected] = _of(await outbox(home.db), type_="bigschool.enrollment.rejected.v1")
    assert rejected.payload["reason"] == ""


# -- transitions that are not allowed ---------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "then", "state", "transition"),
    [
        (True, True, "requested", "approve"),
        (True, False, "requested", "reject"),
        (False, True, "rejected", "approve"),
        (False, False, "rejected", "reject"),
    ],
)
async def test_a_second_decision_conflicts_naming_the_state_and_the_transition(
    home, token, outbox, pending, first: bool, then: bool, state: str, transition: str
) -> None:
    cadre = token("hzsteel-rolling", "cadre")
    await _decide(home, cadre, pending[1], approve=first)
    before = await outbox(home.db)

    response = await _decide(home, cadre, pending[1], approve=then)

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert (body["state"], body["transition"]) == (state, transition)
    assert state in body["detail"] and transition in body["detail"]
    assert await outbox(home.db) == before


async def test_approving_a_confirmed_enrollment_conflicts(home, token, outbox, pending) -> None:
    _, enrollment_id = pending
    await _decide(home, token("hzsteel-rolling", "cadre"), enrollment_id, approve=True)
    async with home.db.transaction() as session:  # as the owner's confirmation would
        await session.execute(
            update(Enrollment)
            .where(Enrollment.enrollment_id == enrollment_id)
            .values(status="confirmed")
        )
    before = await outbox(home.db)

    response = await _decide(home, token("hzsteel-rolling", "cadre"), enrollment_id, approve=True)

    assert response.status_code == 409
    assert (response.json()["state"], response.json()["transition"]) == ("confirmed", "approve")
    assert await outbox(home.db) == before


async def test_a_request_that_needed_no_approval_cannot_be_approved(home, token) -> None:
    member_id = await _member(home, token)
    enrollment = await _enrol(home, token, member_id, programme_id=DIRECT)

    response = await _decide(
        home, token("hzsteel-rolling", "cadre"), enrollment["id"], approve=True
    )

    assert response.status_code == 409
    assert response.json()["state"] == "requested"


# -- who may decide -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "caller",
    [
        ("hzsteel-casting", "cadre"),  # a sibling org's cadre
        ("hzsteel", "cadre"),  # the enterprise above: not the member's grassroots org
        ("hzsteel-rolling", "member"),  # another member of the same org
    ],
)
async def test_who_is_not_the_members_grassroots_cadre_does_not_see_the_request(
    home, token, outbox, pending, caller: tuple[str, str]
) -> None:
    org, role = caller
    headers = token(org, role, member_id="someone-else" if role == "member" else None)
    before = await outbox(home.db)

    decided = await _decide(home, headers, pending[1], approve=True)
    listed = await home.client.get("/approvals", params={"org": "hzsteel-rolling"}, headers=headers)

    assert decided.status_code == 404
    assert decided.headers["content-type"] == PROBLEM
    assert listed.status_code == 404
    assert await outbox(home.db) == before


async def test_the_member_sees_their_request_but_may_not_approve_it(
    home, token, outbox, pending
) -> None:
    member_id, enrollment_id = pending
    before = await outbox(home.db)

    response = await _decide(
        home, token("hzsteel-rolling", "member", member_id=member_id), enrollment_id, approve=True
    )

    assert response.status_code == 403
    assert await outbox(home.db) == before


async def test_an_unknown_enrollment_is_not_found(home, token) -> None:
    response = await _decide(home, token("hzsteel-rolling", "cadre"), "no-such-one", approve=True)

    assert response.status_code == 404


async def test_a_decision_needs_approve_and_a_short_clean_reason(home, token, pending) -> None:
    cadre = token("hzsteel-rolling", "cadre")

    missing = await _decide(home, cadre, pending[1], reason="no flag")
    long = await _decide(home, cadre, pending[1], approve=False, reason="x" * 501)
    unsafe = await _decide(home, cadre, pending[1], approve=False, reason="ok\u202eko")

    assert [r.status_code for r in (missing, long, unsafe)] == [422, 422, 422]
    assert missing.json()["errors"][0]["field"] == "approve"
    assert long.json()["errors"][0]["field"] == "reason"
    assert unsafe.json()["errors"][0]["field"] == "reason"
