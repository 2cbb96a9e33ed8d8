"""The member lifecycle on PostgreSQL: leaving forgets the recorded responses that name the
member (a LIKE on the bytea body), and a hand-over to another node commits as one
transaction under the row locks it takes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from enrollment.app import MIGRATIONS
from enrollment.models import IDEMPOTENCY_KEYS, DepartedMember, Member
from shared.contracts import topics
from shared.contracts.envelope import envelope_for
from shared.contracts.events import MemberTransferAccepted
from shared.testing import migrated, record_for

pytestmark = pytest.mark.integration

ROLLING = "hzsteel-rolling"


async def _service(fresh_pg_url, settings, make_service):
    await migrated(MIGRATIONS, fresh_pg_url)
    return await make_service(settings.model_copy(update={"database_url": fresh_pg_url}))


async def _count(service, table) -> int:
    async with service.db.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def _register(service, token, key: str) -> str:
    response = await service.client.post(
        "/members",
        json={"home_org": ROLLING, "name": "Li Na", "email": "li.na@hzsteel.example"},
        headers={**token(ROLLING, "cadre"), "Idempotency-Key": key},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["member_id"])


async def test_leaving_forgets_the_recorded_responses_naming_the_member(
    fresh_pg_url, settings, make_service, token
) -> None:
    service = await _service(fresh_pg_url, settings, make_service)
    leaving = await _register(service, token, "k-leaving")
    await _register(service, token, "k-staying")
    assert await _count(service, IDEMPOTENCY_KEYS) == 2

    response = await service.client.post(
        f"/members/{leaving}/leave", headers=token(ROLLING, "cadre")
    )

    assert response.status_code == 200, response.text
    assert await _count(service, IDEMPOTENCY_KEYS) == 1
    assert await _count(service, Member) == 1
    assert await _count(service, DepartedMember) == 1


async def test_a_hand_over_commits_the_departure_and_its_events_together(
    fresh_pg_url, settings, make_service, token
) -> None:
    service = await _service(fresh_pg_url, settings, make_service)
    member_id = await _register(service, token, "k1")
    issued = await service.client.post(
        f"/members/{member_id}/transfer", json={"to_org": "js-nj"}, headers=token(ROLLING, "cadre")
    )
    accepted = MemberTransferAccepted(
        member_id=member_id,
        from_node="zj",
        to_org="js-nj",
        to_node="js",
        token=issued.json()["token"],
        accepted_at=datetime.now(UTC),
    )
    consumer = next(c for c in service.app.state.runtime.consumers if c.spec.name == "requests")
    envelope = envelope_for(accepted, source="bigschool/js/enrollment", at=datetime.now(UTC))

    await consumer.process(record_for(accepted, envelope, topic=topics.inbox("zj")))

    assert await _count(service, Member) == 0
    assert await _count(service, IDEMPOTENCY_KEYS) == 0  # the registration's response named them
    async with service.db.sessions() as session:
        [departure] = (await session.execute(select(DepartedMember))).scalars().all()
    assert departure.moved_to == "js-nj"
