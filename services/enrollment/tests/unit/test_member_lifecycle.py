"""A member's lifecycle at the home node: contact data changes, moves within the node, the
transfer to another node's union (token out, hand-over, intake, arrival, refusal), and
leaving the union — after which no name or contact data stays in this node's database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text

from enrollment.models import (
    Certificate,
    DepartedMember,
    Enrollment,
    LearningRecord,
    Member,
    Seat,
    StatsDirty,
)
from shared.contracts import topics
from shared.contracts.base import Event
from shared.contracts.envelope import envelope_for
from shared.contracts.events import (
    CarriedEnrollment,
    LearningEntry,
    MemberTransferAccepted,
    MemberTransferred,
    MemberTransferRefused,
    QualityArea,
)
from shared.messaging.consumer import Outcome
from shared.testing import record_for

NAME, EMAIL, PHONE = "Wang Xiaoming", "wang.xiaoming@hzsteel.example", "+86 571 1234"
ROLLING, CASTING, ELSEWHERE = "hzsteel-rolling", "hzsteel-casting", "js-nj"


async def _member(node, token, home_org: str = ROLLING) -> str:
    response = await node.client.post(
        "/members",
        json={"home_org": home_org, "name": NAME, "email": EMAIL, "phone": PHONE},
        headers=token(home_org, "cadre"),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["member_id"])


async def _feed(node, consumer: str, event: Event, topic: str) -> Outcome:
    """Deliver `event` to one of the node's consumers, as the Kafka subscriber would."""
    found = next(c for c in node.app.state.runtime.consumers if c.spec.name == consumer)
    envelope = envelope_for(event, source="bigschool/js/enrollment", at=datetime.now(UTC))
    return await found.process(record_for(event, envelope, topic=topic))


async def _database_text(node) -> str:
    """Every row of every table, as text: to look for personal data."""
    chunks: list[str] = []
    async with node.db.sessions() as session:
        tables = await session.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
        for (name,) in tables.all():
            rows = await session.execute(text(f'SELECT * FROM "{name}"'))
            for row in rows.all():
                chunks += [
                    v.decode(errors="replace") if isinstance(v, bytes) else str(v) for v in row
                ]
    return "\n".join(chunks)


async def _rows(node, model, **where: Any) -> list[Any]:
    async with node.db.sessions() as session:
        stmt = select(model).filter_by(**where)
        return list((await session.execute(stmt)).scalars())


async def _enrol(node, token, programme_body, member_id: str) -> str:
    published = await node.client.post(
        "/programmes", json=programme_body(), headers=token("hzsteel", "cadre")
    )
    assert published.status_code == 201, published.text
    response = await node.client.post(
        "/enrollments",
        json={"programme_id": published.json()["programme_id"]},
        headers=token(ROLLING, "member", member_id=member_id),
    )
    assert response.status_code in (201, 202), response.text
    return str(response.json()["id"])


# -- contact data ---------------------------------------------------------------------------


async def test_a_member_changes_their_email_and_notifications_get_the_full_record(
    node, token, outbox
) -> None:
    member_id = await _member(node, token)

    response = await node.client.patch(
        f"/members/{member_id}",
        json={"email": "new@hzsteel.example", "language": "en"},
        headers=token(ROLLING, "member", member_id=member_id),
    )

    assert response.status_code == 200, response.text
    assert response.json()["email"] == "new@hzsteel.example"
    last = (await outbox(node.db))[-1]
    assert last.topic == topics.members("zj")
    assert last.payload == {
        "member_id": member_id,
        "home_org": ROLLING,
        "name": NAME,
        "email": "new@hzsteel.example",
        "phone": PHONE,
        "language": "en",
    }


async def test_null_clears_the_phone_but_not_the_name(node, token) -> None:
    member_id = await _member(node, token)
    headers = token(ROLLING, "cadre")

    cleared = await node.client.patch(
        f"/members/{member_id}", json={"phone": None}, headers=headers
    )
    refused = await node.client.patch(f"/members/{member_id}", json={"name": None}, headers=headers)
    empty = await node.client.patch(f"/members/{member_id}", json={}, headers=headers)

    assert cleared.json()["phone"] is None
    assert refused.status_code == 422
    assert empty.status_code == 422
    assert (await _rows(node, Member, member_id=member_id))[0].name == NAME


async def test_only_the_cadre_changes_the_employee_number(node, token) -> None:
    member_id = await _member(node, token)

    by_member = await node.client.patch(
        f"/members/{member_id}",
        json={"employee_no": "E-1"},
        headers=token(ROLLING, "member", member_id=member_id),
    )
    by_cadre = await node.client.patch(
        f"/members/{member_id}", json={"employee_no": "E-1"}, headers=token(ROLLING, "cadre")
    )

    assert by_member.status_code == 403
    assert by_cadre.json()["employee_no"] == "E-1"


async def test_another_orgs_cadre_cannot_change_a_member(node, token) -> None:
    member_id = await _member(node, token)

    response = await node.client.patch(
        f"/members/{member_id}", json={"phone": None}, headers=token(CASTING, "cadre")
    )

    assert response.status_code == 404


# -- transfers within the node -------------------------------------------------------------


async def test_a_move_within_the_node_takes_the_open_enrollments_along(
    node, token, programme_body, outbox
) -> None:
    member_id = await _member(node, token)
    enrollment_id = await _enrol(node, token, programme_body, member_id)

    response = await node.client.post(
        f"/members/{member_id}/transfer", json={"to_org": CASTING}, headers=token(ROLLING, "cadre")
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "moved"
    assert response.json()["token"] is None
    [member] = await _rows(node, Member, member_id=member_id)
    [enrollment] = await _rows(node, Enrollment, enrollment_id=enrollment_id)
    assert member.home_org == enrollment.home_org == CASTING
    last = (await outbox(node.db))[-1]
    assert (last.topic, last.payload["home_org"]) == (topics.members("zj"), CASTING)


async def test_a_transfer_to_a_superior_org_or_the_same_org_is_refused(node, token) -> None:
    member_id = await _member(node, token)
    headers = token(ROLLING, "cadre")

    superior = await node.client.post(
        f"/members/{member_id}/transfer", json={"to_org": "hzsteel"}, headers=headers
    )
    same = await node.client.post(
        f"/members/{member_id}/transfer", json={"to_org": ROLLING}, headers=headers
    )
    unknown = await node.client.post(
        f"/members/{member_id}/transfer", json={"to_org": "nowhere"}, headers=headers
    )

    assert (superior.status_code, same.status_code, unknown.status_code) == (422, 422, 404)


# -- transfers out --------------------------------------------------------------------------


async def _token_for(node, token, member_id: str) -> str:
    response = await node.client.post(
        f"/members/{member_id}/transfer",
        json={"to_org": ELSEWHERE},
        headers=token(ROLLING, "cadre"),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["to_node"]) == ("token_issued", "js")
    return str(body["token"])


def _accepted(member_id: str, token: str, **overrides: Any) -> MemberTransferAccepted:
    fields = {
        "member_id": member_id,
        "from_node": "zj",
        "to_org": ELSEWHERE,
        "to_node": "js",
        "token": token,
        "accepted_at": datetime.now(UTC),
    }
    fields.update(overrides)
    return MemberTransferAccepted(**fields)


async def test_only_the_hash_of_a_transfer_token_is_kept(node, token) -> None:
    member_id = await _member(node, token)

    issued = await _token_for(node, token, member_id)

    assert issued.startswith(f"zj.{member_id}.")
    assert issued not in await _database_text(node)


async def test_the_hand_over_publishes_the_record_and_forgets_the_member(
    node, token, outbox, programme_body
) -> None:
    member_id = await _member(node, token)
    enrollment_id = await _enrol(node, token, programme_body, member_id)
    issued = await _token_for(node, token, member_id)
    before = len(await outbox(node.db))

    outcome = await _feed(node, "requests", _accepted(member_id, issued), topics.inbox("zj"))

    assert outcome == Outcome.handled
    rows = (await outbox(node.db))[before:]
    moved = next(r for r in rows if r.type == "bigschool.member.transferred.v1")
    left = next(r for r in rows if r.type == "bigschool.member.left.v1")
    assert moved.topic == topics.ENROLLMENT
    assert moved.key == member_id
    assert (moved.payload["from_org"], moved.payload["to_org"]) == (ROLLING, ELSEWHERE)
    assert [e["enrollment_id"] for e in moved.payload["enrollments"]] == [enrollment_id]
    assert NAME not in moved.raw_payload and EMAIL not in moved.raw_payload
    assert (left.topic, left.payload["reason"]) == (topics.members("zj"), "transferred")
    assert await _rows(node, Member, member_id=member_id) == []
    assert await _rows(node, Enrollment, member_id=member_id) == []
    [departure] = await _rows(node, DepartedMember, member_id=member_id)
    assert (departure.reason, departure.moved_to) == ("transferred", ELSEWHERE)
    # Nothing about them but the id remains in any row (the relay has not run: skip outbox).
    async with node.db.transaction() as session:
        await session.execute(text("DELETE FROM outbox"))
    stored = await _database_text(node)
    assert NAME not in stored and EMAIL not in stored and PHONE not in stored


async def test_a_cadre_asking_for_a_member_who_moved_away_learns_where(node, token) -> None:
    member_id = await _member(node, token)
    issued = await _token_for(node, token, member_id)
    await _feed(node, "requests", _accepted(member_id, issued), topics.inbox("zj"))

    response = await node.client.get(f"/members/{member_id}", headers=token(ROLLING, "cadre"))

    assert response.status_code == 410
    assert response.json()["moved_to"] == ELSEWHERE
    assert response.json()["reason"] == "transferred"


async def test_a_wrong_token_is_refused_and_the_member_stays(node, token, outbox) -> None:
    member_id = await _member(node, token)
    issued = await _token_for(node, token, member_id)
    forged = issued[:-4] + ("AAAA" if not issued.endswith("AAAA") else "BBBB")

    await _feed(node, "requests", _accepted(member_id, forged), topics.inbox("zj"))

    last = (await outbox(node.db))[-1]
    assert last.type == "bigschool.member.transfer_refused.v1"
    assert last.topic == topics.inbox("js")
    assert last.payload["reason"] == "token_mismatch"
    assert len(await _rows(node, Member, member_id=member_id)) == 1


async def test_an_expired_or_withdrawn_token_is_refused(node, token, outbox) -> None:
    member_id = await _member(node, token)
    issued = await _token_for(node, token, member_id)
    withdrawn = await node.client.delete(
        f"/members/{member_id}/transfer", headers=token(ROLLING, "cadre")
    )

    await _feed(node, "requests", _accepted(member_id, issued), topics.inbox("zj"))

    assert withdrawn.status_code == 204
    assert (await outbox(node.db))[-1].payload["reason"] == "unknown_transfer"
    assert len(await _rows(node, Member, member_id=member_id)) == 1


async def test_a_hand_over_to_another_destination_than_the_token_names_is_refused(
    node, token, outbox
) -> None:
    member_id = await _member(node, token)
    issued = await _token_for(node, token, member_id)

    await _feed(node, "requests", _accepted(member_id, issued, to_org="js"), topics.inbox("zj"))

    assert (await outbox(node.db))[-1].payload["reason"] == "wrong_destination"


# -- transfers in ---------------------------------------------------------------------------


def _incoming_token(member_id: str) -> str:
    return f"js.{member_id}.{'s' * 32}"


async def _intake(node, token, member_id: str) -> Any:
    return await node.client.post(
        "/members/intake",
        json={
            "token": _incoming_token(member_id),
            "home_org": ROLLING,
            "name": NAME,
            "email": EMAIL,
            "phone": PHONE,
        },
        headers=token(ROLLING, "cadre"),
    )


def _transferred(member_id: str, **overrides: Any) -> MemberTransferred:
    done = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    fields: dict[str, Any] = {
        "member_id": member_id,
        "from_org": ELSEWHERE,
        "to_org": ROLLING,
        "to_node": "zj",
        "transferred_at": datetime.now(UTC),
        "learning": [
            LearningEntry(
                enrollment_id=str(uuid.uuid4()),
                programme_id=str(uuid.uuid4()),
                programme_title="Welding basics",
                programme_kind="training_course",
                quality_area=QualityArea.technical_skills,
                hours=12,
                completed_at=done,
                owner_org="js",
            )
        ],
        "enrollments": [
            CarriedEnrollment(
                enrollment_id=str(uuid.uuid4()),
                programme_id=str(uuid.uuid4()),
                owner_org="js",
                owner_node="js",
                status="confirmed",
                requested_at=done - timedelta(days=30),
            )
        ],
    }
    fields.update(overrides)
    return MemberTransferred(**fields)


async def test_the_intake_asks_the_old_home_to_hand_over(node, token, outbox) -> None:
    member_id = str(uuid.uuid4())

    response = await _intake(node, token, member_id)

    assert response.status_code == 202, response.text
    assert (response.json()["member_id"], response.json()["status"]) == (member_id, "arriving")
    [asked] = await outbox(node.db)
    assert asked.topic == topics.inbox("js")
    assert asked.payload["token"] == _incoming_token(member_id)
    assert (asked.payload["to_org"], asked.payload["to_node"]) == (ROLLING, "zj")


async def test_an_arriving_member_cannot_enrol_yet(node, token, programme_body) -> None:
    member_id = str(uuid.uuid4())
    await _intake(node, token, member_id)
    published = await node.client.post(
        "/programmes", json=programme_body(), headers=token("hzsteel", "cadre")
    )

    response = await node.client.post(
        "/enrollments",
        json={"programme_id": published.json()["programme_id"]},
        headers=token(ROLLING, "member", member_id=member_id),
    )

    assert response.status_code == 409, response.text


async def test_a_token_used_twice_or_malformed_is_refused(node, token) -> None:
    member_id = str(uuid.uuid4())
    first = await _intake(node, token, member_id)
    again = await _intake(node, token, member_id)
    bad = await node.client.post(
        "/members/intake",
        json={"token": "not-a-token", "home_org": ROLLING, "name": NAME},
        headers=token(ROLLING, "cadre"),
    )

    assert (first.status_code, again.status_code, bad.status_code) == (202, 409, 422)


async def test_the_arrival_brings_the_learning_record_and_the_enrollments(
    node, token, outbox
) -> None:
    member_id = str(uuid.uuid4())
    await _intake(node, token, member_id)
    event = _transferred(member_id)

    outcome = await _feed(node, "catalogue", event, topics.ENROLLMENT)

    assert outcome == Outcome.handled
    [member] = await _rows(node, Member, member_id=member_id)
    assert member.status == "active"
    [record] = await _rows(node, LearningRecord, member_id=member_id)
    assert (record.hours, record.home_org, record.year) == (12, ROLLING, 2026)
    assert len(await _rows(node, Certificate, member_id=member_id)) == 1
    [enrollment] = await _rows(node, Enrollment, member_id=member_id)
    assert (enrollment.status, enrollment.home_org) == ("confirmed", ROLLING)
    types = [r.type for r in await outbox(node.db)]
    assert "bigschool.certificate.issued.v1" in types
    assert types[-1] == "bigschool.member.registered.v1"  # notifications learn the member


async def test_an_arrival_nobody_awaited_changes_nothing(node, token) -> None:
    member_id = str(uuid.uuid4())

    await _feed(node, "catalogue", _transferred(member_id), topics.ENROLLMENT)

    assert await _rows(node, Member, member_id=member_id) == []
    assert await _rows(node, LearningRecord, member_id=member_id) == []


async def test_a_refused_hand_over_drops_the_contact_data_taken_in(node, token) -> None:
    member_id = str(uuid.uuid4())
    await _intake(node, token, member_id)
    refused = MemberTransferRefused(
        member_id=member_id, to_org=ROLLING, reason="expired", refused_at=datetime.now(UTC)
    )

    await _feed(node, "requests", refused, topics.inbox("zj"))

    assert await _rows(node, Member, member_id=member_id) == []
    response = await node.client.get(f"/members/{member_id}", headers=token(ROLLING, "cadre"))
    assert response.status_code == 410
    assert response.json()["reason"] == "intake_refused:expired"


async def test_the_owner_sends_later_decisions_to_the_new_home(node, token) -> None:
    enrollment_id, member_id = str(uuid.uuid4()), str(uuid.uuid4())
    async with node.db.transaction() as session:
        session.add(
            Seat(
                enrollment_id=enrollment_id,
                programme_id=str(uuid.uuid4()),
                member_id=member_id,
                home_org="js-nj",
                home_node="js",
                status="confirmed",
                sequence=1,
                decided_at=datetime.now(UTC),
                display_name=None,
            )
        )
    carried = CarriedEnrollment(
        enrollment_id=enrollment_id,
        programme_id=str(uuid.uuid4()),
        owner_org="hzsteel",
        owner_node="zj",
        status="confirmed",
        requested_at=datetime.now(UTC),
    )
    event = _transferred(member_id, to_org=CASTING, enrollments=[carried])

    await _feed(node, "catalogue", event, topics.ENROLLMENT)

    [seat] = await _rows(node, Seat, enrollment_id=enrollment_id)
    assert (seat.home_org, seat.home_node) == (CASTING, "zj")


# -- leaving --------------------------------------------------------------------------------


async def test_leaving_purges_the_contact_data_and_gives_up_open_enrollments(
    node, token, outbox, programme_body
) -> None:
    member_id = await _member(node, token)
    enrollment_id = await _enrol(node, token, programme_body, member_id)
    # A replayable response naming the member: it must go too.
    await node.client.get(
        f"/members/{member_id}", headers={**token(ROLLING, "cadre"), "Idempotency-Key": "k1"}
    )
    await node.client.patch(
        f"/members/{member_id}",
        json={"language": "en"},
        headers={**token(ROLLING, "cadre"), "Idempotency-Key": "k2"},
    )

    response = await node.client.post(
        f"/members/{member_id}/leave", headers=token(ROLLING, "cadre")
    )

    assert response.status_code == 200, response.text
    assert response.json()["reason"] == "left"
    types = [r.type for r in await outbox(node.db)]
    assert "bigschool.enrollment.cancellation_requested.v1" in types
    assert types[-1] == "bigschool.member.left.v1"
    [enrollment] = await _rows(node, Enrollment, enrollment_id=enrollment_id)
    assert enrollment.member_id == member_id  # the pseudonymous history stays
    async with node.db.transaction() as session:
        await session.execute(text("DELETE FROM outbox"))
    stored = await _database_text(node)
    assert NAME not in stored and EMAIL not in stored and PHONE not in stored


async def test_a_member_cannot_remove_themselves_from_the_roster(node, token) -> None:
    member_id = await _member(node, token)

    response = await node.client.post(
        f"/members/{member_id}/leave", headers=token(ROLLING, "member", member_id=member_id)
    )

    assert response.status_code == 404
    assert len(await _rows(node, Member, member_id=member_id)) == 1


# -- roll-ups -------------------------------------------------------------------------------


async def _marked(node) -> set[str]:
    async with node.db.sessions() as session:
        return set((await session.execute(select(StatsDirty.org_id))).scalars())


async def _clear_marks(node) -> None:
    async with node.db.transaction() as session:
        await session.execute(delete(StatsDirty))


async def test_leaving_and_moving_mark_the_orgs_figures_for_the_roll_ups(node, token) -> None:
    leaving, moving = await _member(node, token), await _member(node, token)
    await _clear_marks(node)

    await node.client.post(f"/members/{leaving}/leave", headers=token(ROLLING, "cadre"))
    assert await _marked(node) == {ROLLING}

    await _clear_marks(node)
    await node.client.post(
        f"/members/{moving}/transfer", json={"to_org": CASTING}, headers=token(ROLLING, "cadre")
    )
    assert await _marked(node) == {ROLLING, CASTING}
