"""The learning record at the home node: completions (fed through the `learning` consumer,
as Kafka would deliver them) add hours to the right quality area and federation-zone year;
revocations take them out; only the member and their home org's cadres may read it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from enrollment.domain.learning import federation_year, year_totals
from enrollment.models import Certificate, LearningRecord
from shared.clock import FixedClock
from shared.contracts import topics
from shared.contracts.envelope import envelope_for
from shared.contracts.events import EnrollmentCompleted, EnrollmentCompletionRevoked, QualityArea
from shared.messaging.consumer import Outcome
from shared.testing import completion, completion_revoked, record_for

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
ISSUED = "bigschool.certificate.issued.v1"
REVOKED = "bigschool.certificate.revoked.v1"


async def _member(node, token, home_org: str = "hzsteel-rolling", name: str = "Wang") -> str:
    response = await node.client.post(
        "/members",
        json={"home_org": home_org, "name": name, "email": "w@x.example", "phone": "+86 571 1"},
        headers=token(home_org, "cadre"),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["member_id"])


def _completed(member_id: str, **overrides) -> EnrollmentCompleted:
    return completion(member_id, NOW, **overrides)


def _revoked(done: EnrollmentCompleted, at: datetime = NOW) -> EnrollmentCompletionRevoked:
    revoked = completion_revoked(done, at + timedelta(days=1))
    return revoked.model_copy(update={"reason": "recorded for the wrong member"})


async def _feed(node, event, event_id: str | None = None) -> Outcome:
    """Deliver `event` to the node's learning consumer, as the Kafka subscriber would."""
    consumer = next(c for c in node.app.state.runtime.consumers if c.spec.name == "learning")
    envelope = envelope_for(event, source="bigschool/zj/enrollment", at=NOW, event_id=event_id)
    return await consumer.process(record_for(event, envelope, topic=topics.ENROLLMENT))


async def _record(node, token, member_id: str, year: int, home_org: str = "hzsteel-rolling"):
    response = await node.client.get(
        f"/members/{member_id}/learning-record",
        params={"year": year},
        headers=token(home_org, "member", member_id=member_id),
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _count(node, model) -> int:
    async with node.db.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_a_completion_adds_its_hours_to_its_quality_area_in_its_year(node, token) -> None:
    member_id = await _member(node, token)

    assert await _feed(node, _completed(member_id, hours=6.5)) == Outcome.handled

    record = await _record(node, token, member_id, 2027)
    assert record["hours_by_quality_area"] == {
        "ethics": 0,
        "science_culture": 0,
        "technical_skills": 0,
        "safety_health": 6.5,
    }
    assert (record["total_hours"], record["completions_count"]) == (6.5, 1)
    [completion] = record["completions"]
    assert completion["programme_title"] == "Safe crane operation"
    assert completion["programme_kind"] == "training_course"
    assert completion["completed_on"] == "2027-03-01"
    assert completion["certificate_id"] is not None
    assert (await _record(node, token, member_id, 2026))["total_hours"] == 0


async def test_a_completion_at_2330_utc_on_31_december_counts_in_the_next_year(node, token) -> None:
    member_id = await _member(node, token)
    late = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 2027-01-01 07:30 in Asia/Shanghai

    await _feed(node, _completed(member_id, completed_at=late, programme_ends_at=late))

    assert (await _record(node, token, member_id, 2026))["completions"] == []
    record = await _record(node, token, member_id, 2027)
    assert record["hours_by_quality_area"]["safety_health"] == 8
    assert record["completions"][0]["completed_on"] == "2027-01-01"


def test_the_year_is_the_calendar_year_in_the_federation_zone() -> None:
    late = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)

    assert federation_year(late, "Asia/Shanghai") == 2027
    assert federation_year(late, "UTC") == 2026
    assert federation_year(datetime(2026, 12, 31, 15, 59, tzinfo=UTC), "Asia/Shanghai") == 2026


async def test_results_and_several_areas_add_up_per_area_and_in_total(node, token) -> None:
    member_id = await _member(node, token)
    contest = _completed(
        member_id,
        hours=2,
        quality_area=QualityArea.technical_skills,
        programme_kind="skills_competition",
        score=91.5,
        rank=2,
    )
    for event in (_completed(member_id, hours=8), _completed(member_id, hours=4), contest):
        await _feed(node, event)

    record = await _record(node, token, member_id, 2027)

    assert record["hours_by_quality_area"]["safety_health"] == 12
    assert record["hours_by_quality_area"]["technical_skills"] == 2
    assert (record["total_hours"], record["completions_count"]) == (14, 3)
    [result] = [c for c in record["completions"] if c["score"] is not None]
    assert (result["score"], result["rank"]) == (91.5, 2)


async def test_a_completion_of_another_nodes_member_is_ignored(node, token, outbox) -> None:
    # Owned here (hzsteel), but the member's home org js-nj is hosted by node js.
    stranger = _completed(str(uuid.uuid4()), home_org="js-nj")

    assert await _feed(node, stranger) == Outcome.handled

    assert await _count(node, LearningRecord) == 0
    assert await _count(node, Certificate) == 0
    assert [r for r in await outbox(node.db) if r.type == ISSUED] == []


async def test_a_redelivered_completion_adds_nothing_twice(node, token, outbox) -> None:
    member_id = await _member(node, token)
    done = _completed(member_id)
    event_id = str(uuid.uuid4())

    assert await _feed(node, done, event_id) == Outcome.handled
    assert await _feed(node, done, event_id) == Outcome.duplicate

    record = await _record(node, token, member_id, 2027)
    assert (record["total_hours"], record["completions_count"]) == (8, 1)
    assert await _count(node, Certificate) == 1
    assert len([r for r in await outbox(node.db) if r.type == ISSUED]) == 1


async def test_a_second_completion_event_of_one_enrollment_issues_no_second_certificate(
    node, token, outbox
) -> None:
    member_id = await _member(node, token)
    done = _completed(member_id)
    corrected = done.model_copy(update={"score": 88.0})

    await _feed(node, done)
    await _feed(node, corrected)  # a new ce_id: not a redelivery, a corrected result

    record = await _record(node, token, member_id, 2027)
    assert (record["total_hours"], record["completions_count"]) == (8, 1)
    assert record["completions"][0]["score"] == 88.0
    assert await _count(node, Certificate) == 1
    assert len([r for r in await outbox(node.db) if r.type == ISSUED]) == 1


async def test_a_revocation_takes_the_hours_out_and_revokes_the_certificate(
    node, token, outbox
) -> None:
    member_id = await _member(node, token)
    kept, wrong = _completed(member_id, hours=3), _completed(member_id, hours=8)
    for event in (kept, wrong, _revoked(wrong)):
        await _feed(node, event)

    record = await _record(node, token, member_id, 2027)
    assert (record["total_hours"], record["completions_count"]) == (3, 1)
    assert [c["enrollment_id"] for c in record["completions"]] == [kept.enrollment_id]
    [revoked] = [r for r in await outbox(node.db) if r.type == REVOKED]
    assert revoked.payload["enrollment_id"] == wrong.enrollment_id
    assert (revoked.topic, revoked.key) == (topics.ENROLLMENT, wrong.programme_id)
    async with node.db.sessions() as session:
        row = await session.get(LearningRecord, wrong.enrollment_id)
    assert row.revoked_at == NOW + timedelta(days=1)


async def test_a_revocation_twice_revokes_once(node, token, outbox) -> None:
    member_id = await _member(node, token)
    done = _completed(member_id)
    await _feed(node, done)

    await _feed(node, _revoked(done))
    await _feed(node, _revoked(done))  # a new ce_id, the same fact

    assert len([r for r in await outbox(node.db) if r.type == REVOKED]) == 1


async def test_the_certificate_issued_event_names_the_certificate_and_no_code(
    node, token, outbox
) -> None:
    member_id = await _member(node, token)
    done = _completed(member_id)

    await _feed(node, done)

    [issued] = [r for r in await outbox(node.db) if r.type == ISSUED]
    async with node.db.sessions() as session:
        certificate = (await session.execute(select(Certificate))).scalar_one()
    assert (issued.topic, issued.key) == (topics.ENROLLMENT, done.programme_id)
    assert issued.payload["certificate_id"] == certificate.certificate_id
    assert issued.headers["bigschool_orgs"] == "hzsteel,hzsteel-rolling"
    assert certificate.verification_code not in issued.raw_payload + issued.raw_headers


# -- who may read it ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("the member", 200),
        ("a cadre of the home org", 200),
        ("an admin of the home org", 200),
        ("another member", 404),
        ("a cadre of a sibling org", 404),
        ("a cadre of the enterprise above", 404),
        ("a member token without a member id", 404),
    ],
)
async def test_only_the_member_and_their_home_orgs_cadres_see_the_record(
    node, token, who: str, status: int
) -> None:
    member_id = await _member(node, token)
    other_id = await _member(node, token, name="Li")
    headers = {
        "the member": token("hzsteel-rolling", "member", member_id=member_id),
        "a cadre of the home org": token("hzsteel-rolling", "cadre"),
        "an admin of the home org": token("hzsteel-rolling", "admin"),
        "another member": token("hzsteel-rolling", "member", member_id=other_id),
        "a cadre of a sibling org": token("hzsteel-casting", "cadre"),
        "a cadre of the enterprise above": token("hzsteel", "cadre"),
        "a member token without a member id": token("hzsteel-rolling", "member"),
    }[who]

    response = await node.client.get(f"/members/{member_id}/learning-record", headers=headers)

    assert response.status_code == status, response.text


async def test_an_unknown_member_is_404_and_no_token_is_401(node, token) -> None:
    unknown = str(uuid.uuid4())
    headers = token("hzsteel-rolling", "cadre")

    assert (
        await node.client.get(f"/members/{unknown}/learning-record", headers=headers)
    ).status_code == 404
    assert (await node.client.get(f"/members/{unknown}/learning-record")).status_code == 401


async def test_the_year_defaults_to_the_current_year_in_the_federation_zone(
    settings, make_service, token
) -> None:
    # 2027-12-31 17:00 UTC is already 2028 in Shanghai.
    service = await make_service(settings, FixedClock(datetime(2027, 12, 31, 17, tzinfo=UTC)))
    member_id = await _member(service, token)

    response = await service.client.get(
        f"/members/{member_id}/learning-record",
        headers=token("hzsteel-rolling", "member", member_id=member_id),
    )

    assert response.json()["year"] == 2028


@pytest.mark.parametrize("year", ["1800", "abc", "99999"])
async def test_a_year_out_of_range_is_422(node, token, year: str) -> None:
    member_id = await _member(node, token)

    response = await node.client.get(
        f"/members/{member_id}/learning-record",
        params={"year": year},
        headers=token("hzsteel-rolling", "cadre"),
    )

    assert response.status_code == 422


def test_year_totals_round_decimal_hours_and_list_every_area() -> None:
    from enrollment.domain.learning import Credit

    totals = year_totals([Credit("ethics", 0.1), Credit("ethics", 0.2), Credit("ethics", 1)])

    assert totals.hours_by_quality_area == {
        "ethics": 1.3,
        "science_culture": 0.0,
        "technical_skills": 0.0,
        "safety_health": 0.0,
    }
    assert (totals.total_hours, totals.completions) == (1.3, 3)
