"""The enrollment lifecycle on one node that both owns a programme and is home to its members:
requests, quotas, cancellation, offers, acceptance, expiry, attendance, completion, programme
changes — every step through the HTTP API and the node's own consumers, in-process (the
outbox rows are handed to the consumers as the relay and Kafka would)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from enrollment.domain.lifecycle import (
    ENDED,
    TRANSITIONS,
    Status,
    Step,
    TransitionNotAllowed,
    next_status,
)
from enrollment.domain.seats import SeatLedger, quota_org_of
from enrollment.models import Seat
from shared.clock import FixedClock
from shared.testing import register_members

NOW = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)
START = datetime(2030, 5, 1, 1, 0, tzinfo=UTC)


class MovableClock(FixedClock):
    def advance(self, delta: timedelta) -> None:
        self.at += delta


# -- the domain, without a database ---------------------------------------------------------


@pytest.mark.parametrize("step", list(Step))
@pytest.mark.parametrize("state", list(Status))
def test_every_step_is_allowed_exactly_from_its_source_states(state: Status, step: Step) -> None:
    sources, target = TRANSITIONS[step]
    if state in sources:
        assert next_status(state, step) is target
    else:
        with pytest.raises(TransitionNotAllowed) as refused:
            next_status(state, step)
        assert (refused.value.state, refused.value.step) == (state, step)


def test_an_ended_enrollment_can_go_nowhere_but_where_a_new_request_starts() -> None:
    for state in ENDED:
        assert [step for step in Step if state in TRANSITIONS[step][0]] == []


def test_a_quota_holds_even_while_seats_are_left() -> None:
    ledger = SeatLedger(capacity=10, taken=0, quotas={"a": 2})
    for _ in range(2):
        ledger.take("a")
    assert not ledger.has_room("a") and ledger.has_room("b") and ledger.has_room(None)
    ledger.give_back("a")
    assert ledger.has_room("a") and ledger.taken == 1


def test_a_member_counts_against_the_nearest_quota_of_their_chain() -> None:
    quotas = {"hzsteel": 20, "zj": 100}
    assert quota_org_of(["hzsteel-rolling", "hzsteel", "zj-hz", "zj"], quotas) == "hzsteel"
    assert quota_org_of(["js-nj", "js"], quotas) is None


# -- the node: one owner, one home ----------------------------------------------------------


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(NOW)


@pytest.fixture
async def loop_node(make_service, settings, clock, relay_loop):
    service = await make_service(
        settings.model_copy(update={"link_secret": SecretStr("x" * 40)}), clock
    )
    return service, relay_loop(service)


async def _programme(service, token, programme_body, **fields: Any) -> str:
    body = programme_body(**{"capacity": 2, **fields})
    response = await service.client.post(
        "/programmes", json=body, headers=token("hzsteel", "cadre")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["programme_id"])


async def _enrol(service, token, pid: str, member_id: str, org: str = "hzsteel-rolling") -> str:
    response = await service.client.post(
        "/enrollments",
        json={"programme_id": pid},
        headers=token(org, "member", member_id=member_id),
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def _status(service, token, enrollment_id: str, member_id: str, org: str = "hzsteel-rolling"):
    response = await service.client.get(
        f"/enrollments/{enrollment_id}", headers=token(org, "member", member_id=member_id)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _seats(service, pid: str) -> dict[str, str]:
    async with service.db.reading() as session:
        rows = (await session.execute(select(Seat).where(Seat.programme_id == pid))).scalars()
        return {seat.enrollment_id: seat.status for seat in rows}


@pytest.fixture
async def full_programme(loop_node, token, programme_body):
    """Two seats taken, three members waiting (positions 1, 2, 3)."""
    service, loop = loop_node
    members = await register_members(service.client, token, 5, "hzsteel-rolling")
    pid = await _programme(service, token, programme_body)
    enrollments = [await _enrol(service, token, pid, m) for m in members]
    await loop.run()
    return service, loop, pid, members, enrollments


async def test_the_waitlist_shows_each_members_position(full_programme, token) -> None:
    service, _, _, members, enrollments = full_programme

    seen = [await _status(service, token, e, m) for e, m in zip(enrollments, members, strict=True)]

    assert [s["status"] for s in seen] == ["confirmed"] * 2 + ["waitlisted"] * 3
    assert [s["position"] for s in seen] == [None, None, 1, 2, 3]


async def test_a_cancelled_seat_is_offered_to_the_first_in_line(full_programme, token) -> None:
    service, loop, _, members, enrollments = full_programme

    response = await service.client.post(
        f"/enrollments/{enrollments[0]}/cancel",
        headers=token("hzsteel-rolling", "member", member_id=members[0]),
    )
    delivered = await loop.run()

    assert response.status_code == 202, response.text
    assert [d["type"].split(".")[-2] for d in delivered] == [
        "cancellation_requested",
        "cancelled",
        "offered",
        "waitlist_moved",
    ]
    first = await _status(service, token, enrollments[2], members[2])
    assert first["status"] == "offered"
    assert first["offer_expires_at"].startswith((NOW + timedelta(hours=48)).isoformat()[:16])
    assert [
        (await _status(service, token, e, m))["position"]
        for e, m in zip(enrollments[3:], members[3:], strict=True)
    ] == [1, 2]
    assert (await _status(service, token, enrollments[0], members[0]))["status"] == "cancelled"


async def test_an_accepted_offer_becomes_a_confirmed_seat(full_programme, token) -> None:
    service, loop, pid, members, enrollments = full_programme
    await service.client.post(
        f"/enrollments/{enrollments[1]}/cancel",
        headers=token("hzsteel-rolling", "member", member_id=members[1]),
    )
    await loop.run()

    response = await service.client.post(
        f"/enrollments/{enrollments[2]}/accept",
        headers=token("hzsteel-rolling", "member", member_id=members[2]),
    )
    await loop.run()

    assert response.status_code == 202, response.text
    assert (await _status(service, token, enrollments[2], members[2]))["status"] == "confirmed"
    assert (await _seats(service, pid))[enrollments[2]] == "confirmed"


async def test_an_unanswered_offer_expires_and_passes_on_after_a_restart(
    full_programme, token, make_service, settings, clock, relay_loop
) -> None:
    service, loop, pid, members, enrollments = full_programme
    await service.client.post(
        f"/enrollments/{enrollments[0]}/cancel",
        headers=token("hzsteel-rolling", "member", member_id=members[0]),
    )
    await loop.run()

    clock.advance(timedelta(hours=49))
    restarted = await make_service(
        settings.model_copy(update={"database_url": settings.database_url}), clock
    )
    expired = await restarted.app.state.runtime.workers[0].__self__.run_once()  # OfferExpiry
    delivered = await relay_loop(restarted).run()

    assert expired == 1
    assert "bigschool.enrollment.offer_expired.v1" in [d["type"] for d in delivered]
    seats = await _seats(service, pid)
    assert (seats[enrollments[2]], seats[enrollments[3]]) == ("cancelled", "offered")
    late = await service.client.post(
        f"/enrollments/{enrollments[2]}/accept",
        headers=token("hzsteel-rolling", "member", member_id=members[2]),
    )
    assert late.status_code == 409


async def test_raising_the_capacity_offers_several_seats_at_once(full_programme, token) -> None:
    service, loop, pid, _, enrollments = full_programme

    response = await service.client.patch(
        f"/programmes/{pid}", json={"capacity": 4}, headers=token("hzsteel", "cadre")
    )
    await loop.run()

    assert response.status_code == 200, response.text
    seats = await _seats(service, pid)
    assert [seats[e] for e in enrollments] == [
        "confirmed",
        "confirmed",
        "offered",
        "offered",
        "waitlisted",
    ]


async def test_the_capacity_cannot_go_below_the_seats_taken(full_programme, token) -> None:
    service, _, pid, _, _ = full_programme

    response = await service.client.patch(
        f"/programmes/{pid}", json={"capacity": 1}, headers=token("hzsteel", "cadre")
    )

    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "capacity"


async def test_a_step_not_allowed_from_the_state_answers_409_naming_both(
    full_programme, token
) -> None:
    service, loop, _, members, enrollments = full_programme
    member = token("hzsteel-rolling", "member", member_id=members[4])
    await service.client.post(f"/enrollments/{enrollments[4]}/cancel", headers=member)
    await loop.run()

    again = await service.client.post(f"/enrollments/{enrollments[4]}/cancel", headers=member)
    accept = await service.client.post(
        f"/enrollments/{enrollments[0]}/accept",
        headers=token("hzsteel-rolling", "member", member_id=members[0]),
    )

    assert again.status_code == 409
    assert (again.json()["state"], again.json()["transition"]) == ("cancelled", "cancel")
    assert (accept.status_code, accept.json()["state"]) == (409, "confirmed")


async def test_another_member_can_neither_see_nor_cancel_an_enrollment(
    full_programme, token
) -> None:
    service, _, _, members, enrollments = full_programme
    stranger = token("hzsteel-rolling", "member", member_id=members[1])
    sibling_cadre = token("hzsteel-casting", "cadre")

    assert (
        await service.client.get(f"/enrollments/{enrollments[0]}", headers=stranger)
    ).status_code == 404
    assert (
        await service.client.post(f"/enrollments/{enrollments[0]}/cancel", headers=stranger)
    ).status_code == 404
    assert (
        await service.client.post(f"/enrollments/{enrollments[0]}/cancel", headers=sibling_cadre)
    ).status_code == 404


async def test_a_member_lists_their_own_and_a_cadre_their_orgs_enrollments(
    full_programme, token
) -> None:
    service, _, _, members, enrollments = full_programme

    mine = await service.client.get(
        "/enrollments", headers=token("hzsteel-rolling", "member", member_id=members[0])
    )
    org = await service.client.get(
        "/enrollments?org=hzsteel-rolling&status=waitlisted&limit=2",
        headers=token("hzsteel-rolling", "cadre"),
    )
    rest = await service.client.get(
        f"/enrollments?org=hzsteel-rolling&status=waitlisted&limit=2&cursor={org.json()['next_cursor']}",
        headers=token("hzsteel-rolling", "cadre"),
    )
    other = await service.client.get(
        "/enrollments?org=hzsteel-rolling", headers=token("hzsteel-casting", "cadre")
    )

    assert [e["id"] for e in mine.json()["items"]] == [enrollments[0]]
    waiting = [e["id"] for e in org.json()["items"] + rest.json()["items"]]
    assert sorted(waiting) == sorted(enrollments[2:]) and rest.json()["next_cursor"] is None
    assert other.status_code == 404


async def test_the_owner_cadre_sees_participants_by_display_name_but_no_contact_data(
    full_programme, token
) -> None:
    service, _, pid, _, _ = full_programme

    seats = await service.client.get(f"/programmes/{pid}/seats", headers=token("hzsteel", "cadre"))
    sibling = await service.client.get(
        f"/programmes/{pid}/seats", headers=token("hzsteel-casting", "cadre")
    )

    assert seats.status_code == 200, seats.text
    items = seats.json()["items"]
    assert [i["display_name"] for i in items] == [f"Worker {n}" for n in range(5)]
    assert [i["position"] for i in items] == [None, None, 1, 2, 3]
    assert "@" not in seats.text
    assert sibling.status_code == 404


async def test_attendance_and_completion_reach_the_member_with_the_result(
    full_programme, token
) -> None:
    service, loop, pid, members, enrollments = full_programme
    cadre = token("hzsteel", "cadre")

    attended = await service.client.post(
        f"/programmes/{pid}/attendance",
        json={"enrollment_ids": enrollments[:2], "attended": True},
        headers=cadre,
    )
    completed = await service.client.post(
        f"/programmes/{pid}/seats/{enrollments[0]}/completion",
        json={"score": 91.5, "rank": 1},
        headers=cadre,
    )
    waiting = await service.client.post(
        f"/programmes/{pid}/seats/{enrollments[3]}/completion", json={}, headers=cadre
    )
    await loop.run()

    assert (attended.status_code, completed.status_code) == (200, 200)
    assert waiting.status_code == 409  # a waitlisted member cannot complete
    done = await _status(service, token, enrollments[0], members[0])
    assert (done["status"], done["score"], done["rank"], done["hours"]) == (
        "completed",
        91.5,
        1,
        8.0,
    )
    assert (await _status(service, token, enrollments[1], members[1]))["status"] == "attended"


async def test_a_bulk_attendance_with_one_bad_seat_changes_nothing(full_programme, token) -> None:
    service, _, pid, _, enrollments = full_programme

    response = await service.client.post(
        f"/programmes/{pid}/attendance",
        json={"enrollment_ids": [enrollments[0], enrollments[4]], "attended": True},
        headers=token("hzsteel", "cadre"),
    )

    assert response.status_code == 409
    assert (await _seats(service, pid))[enrollments[0]] == "confirmed"


async def test_a_cancelled_programme_ends_every_seat_and_place(full_programme, token) -> None:
    service, loop, pid, members, enrollments = full_programme

    response = await service.client.post(
        f"/programmes/{pid}/cancel",
        json={"reason": "venue closed"},
        headers=token("hzsteel", "cadre"),
    )
    await loop.run()

    assert response.status_code == 200, response.text
    assert set((await _seats(service, pid)).values()) == {"cancelled"}
    statuses = [
        (await _status(service, token, e, m))["status"]
        for e, m in zip(enrollments, members, strict=True)
    ]
    assert statuses == ["cancelled"] * 5
    again = await _enrol(service, token, pid, members[0])
    await loop.run()
    assert (await _status(service, token, again, members[0]))["reason"] == "programme_cancelled"


async def test_a_quota_waitlists_a_sub_orgs_members_while_seats_are_left(
    loop_node, token, programme_body
) -> None:
    service, loop = loop_node
    rolling = await register_members(service.client, token, 3, "hzsteel-rolling")
    casting = await register_members(service.client, token, 2, "hzsteel-casting")
    pid = await _programme(
        service,
        token,
        programme_body,
        capacity=10,
        audience=["hzsteel"],
        quotas={"hzsteel-rolling": 2},
    )

    ids = [await _enrol(service, token, pid, m) for m in rolling]
    ids += [await _enrol(service, token, pid, m, org="hzsteel-casting") for m in casting]
    await loop.run()

    seats = await _seats(service, pid)
    assert [seats[e] for e in ids] == [
        "confirmed",
        "confirmed",
        "waitlisted",
        "confirmed",
        "confirmed",
    ]


async def test_a_one_click_link_cancels_once_and_then_is_gone(full_programme, token) -> None:
    service, loop, _, members, enrollments = full_programme
    link = service.ctx.links.make("cancel-enrollment", enrollments[3])

    page = await service.client.get(f"/links/{link}")
    first = await service.client.post(f"/links/{link}")
    second = await service.client.post(f"/links/{link}")
    tampered = await service.client.post(f"/links/{link[:-2]}xx")
    await loop.run()

    assert (page.status_code, first.status_code, second.status_code) == (200, 200, 410)
    assert tampered.status_code == 403
    assert (await _status(service, token, enrollments[3], members[3]))["status"] == "cancelled"


async def test_an_expired_one_click_link_is_refused(full_programme) -> None:
    service, _, _, _, enrollments = full_programme
    signer = service.ctx.links
    signer.max_age_seconds = -1  # every link is already too old
    link = signer.make("cancel-enrollment", enrollments[3])

    assert (await service.client.post(f"/links/{link}")).status_code == 410


async def test_over_budget_a_seat_is_held_for_the_owner_cadres_decision(
    loop_node, token, programme_body
) -> None:
    service, loop = loop_node
    cadre = token("hzsteel", "cadre")
    members = await register_members(service.client, token, 3, "hzsteel-rolling")
    budget = {"union_fund_fen": 1_000, "education_share_bp": 10_000}
    assert (
        await service.client.put("/budgets/hzsteel/2030", json=budget, headers=cadre)
    ).status_code == 200
    pid = await _programme(
        service, token, programme_body, capacity=3, cost_per_seat_fen=1_000, over_budget="approval"
    )
    ids = [await _enrol(service, token, pid, m) for m in members]
    await loop.run()

    seen = [
        (await _status(service, token, e, m))["status"] for e, m in zip(ids, members, strict=True)
    ]
    assert seen == ["confirmed", "pending_budget", "pending_budget"]
    path = f"/programmes/{pid}/seats/{ids[1]}/budget-approval"
    too_early = await service.client.post(path, json={"approve": True}, headers=cadre)
    budget["union_fund_fen"] = 2_000  # the cadre raises the budget, then approves
    await service.client.put("/budgets/hzsteel/2030", json=budget, headers=cadre)
    approved = await service.client.post(path, json={"approve": True}, headers=cadre)
    refused = await service.client.post(
        f"/programmes/{pid}/seats/{ids[2]}/budget-approval", json={"approve": False}, headers=cadre
    )
    await loop.run()

    assert too_early.status_code == 409
    assert (approved.status_code, refused.status_code) == (200, 200)
    after = [(await _status(service, token, e, m)) for e, m in zip(ids, members, strict=True)]
    assert [a["status"] for a in after] == ["confirmed", "confirmed", "refused"]
    assert after[2]["reason"] == "budget_exhausted"
    money = (await service.client.get("/budgets/hzsteel/2030", headers=cadre)).json()
    assert (money["committed"], money["left"]) == (2_000, 0)


async def test_over_budget_a_programme_that_says_refuse_refuses(
    loop_node, token, programme_body
) -> None:
    service, loop = loop_node
    [member] = await register_members(service.client, token, 1, "hzsteel-rolling")
    pid = await _programme(service, token, programme_body, cost_per_seat_fen=500)  # no budget

    enrollment = await _enrol(service, token, pid, member)
    await loop.run()

    seen = await _status(service, token, enrollment, member)
    assert (seen["status"], seen["reason"]) == ("refused", "budget_exhausted")
    assert await _seats(service, pid) == {}
