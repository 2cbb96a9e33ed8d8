"""Reminders and staff notices on PostgreSQL: replicas sending due reminders together send
each once (`FOR UPDATE SKIP LOCKED`), a moved start reschedules the seats set-based, and the
staff directory plans needs-action notices. `fresh_pg_url` comes from the repository's root
conftest (tests/fixtures.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from notifications.domain.notices import APPROVAL_NEEDED, PROGRAMME_REMINDER
from notifications.domain.staff import staff_recipient_id
from notifications.service.staff import Contact, save_staff
from notifications.service.staff_rules import STAFF
from shared.contracts.events import (
    EnrollmentConfirmed,
    EnrollmentPendingApproval,
    ProgrammeChanged,
    ProgrammePublished,
    QualityArea,
)

pytestmark = pytest.mark.integration

AT = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)
STARTS = AT + timedelta(days=3)


def programme(starts_at: datetime, model: type[ProgrammePublished] = ProgrammePublished) -> Any:
    return model(
        programme_id="prog-1",
        owner_org="steel",
        owner_node="n1",
        title="Safe crane operation",
        kind="training",
        quality_area=QualityArea.safety_health,
        audience=["steel"],
        capacity=100,
        hours=12,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=8),
    )


async def test_replicas_send_each_reminder_once_at_the_moved_start(
    make_node: Any, fresh_pg_url: str
) -> None:
    replicas = [await make_node(database_url=fresh_pg_url, reminder_batch_size=7) for _ in range(3)]
    first = replicas[0]
    await first.feed("catalogue", programme(STARTS))
    members = [await first.add_member() for _ in range(30)]
    for member in members:
        seat = EnrollmentConfirmed(
            enrollment_id=str(uuid.uuid4()),
            programme_id="prog-1",
            member_id=member.member_id,
            owner_org="steel",
            home_org="steel-rolling",
            decided_at=AT,
            sequence=1,
        )
        await first.feed("catalogue", seat)
    later = STARTS + timedelta(days=1)
    await first.feed("catalogue", programme(later, ProgrammeChanged))

    first.clock.advance((later - timedelta(hours=24) - AT).total_seconds())
    sent = await asyncio.gather(*(r.app.state.reminders.run_once() for r in replicas))
    assert sum(sent) == 30

    reminded = [d for d in await first.deliveries() if d.event_type == PROGRAMME_REMINDER]
    assert Counter(d.member_id for d in reminded) == Counter({m.member_id: 2 for m in members})


async def test_staff_of_the_org_are_told_on_postgres(make_node: Any, fresh_pg_url: str) -> None:
    node = await make_node(database_url=fresh_pg_url)
    async with node.db.transaction() as session:
        contact = Contact("Approver", "a@example.org", None, "en")
        await save_staff(session, node.ctx, "steel-rolling", "approver", contact, ["approvals"])
    event = EnrollmentPendingApproval(
        enrollment_id=str(uuid.uuid4()),
        programme_id="prog-1",
        member_id=str(uuid.uuid4()),
        owner_org="steel",
        home_org="steel-rolling",
        requested_at=AT,
    )
    event_id = str(uuid.uuid4())
    for _ in range(3):
        await node.feed(STAFF, event, event_id)
    deliveries = await node.deliveries()
    assert {(d.member_id, d.event_type) for d in deliveries} == {
        (staff_recipient_id("steel-rolling", "approver"), APPROVAL_NEEDED)
    }
    assert len(deliveries) == 2
    transport = httpx.ASGITransport(app=node.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as api:
        token = node.token(org="steel-rolling", roles=["cadre"])
        response = await api.get(
            "/orgs/steel-rolling/staff", headers={"Authorization": f"Bearer {token}"}
        )
    assert [s["sub"] for s in response.json()["items"]] == ["approver"]
