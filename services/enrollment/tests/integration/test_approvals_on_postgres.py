"""Approvals on the real database: cadres deciding one request at the same moment — one
decision wins, the others answer 409, and the owner's inbox gets the request at most once
(exactly once when an approval won, never when a rejection did)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from enrollment.app import MIGRATIONS
from enrollment.service.programmes import copy_programme
from shared.clock import FixedClock
from shared.contracts import topics
from shared.contracts.events import ProgrammePublished, QualityArea
from shared.testing import migrated

pytestmark = pytest.mark.integration

PROGRAMME = "7d1c2a7e-0000-4000-8000-00000000a11c"
NOW = datetime(2030, 3, 1, 2, 0, tzinfo=UTC)
PARALLEL = 8


@pytest.fixture
async def home(backend_url, settings, make_service):
    await migrated(MIGRATIONS, backend_url)
    service = await make_service(
        settings.model_copy(update={"database_url": backend_url}), FixedClock(NOW)
    )
    published = ProgrammePublished(
        programme_id=PROGRAMME,
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
        requires_approval=True,
        eligibility={"min_skill_grade": 3},
    )
    async with service.db.transaction() as session:
        await copy_programme(session, service.ctx, published)
    return service


async def _pending(home, token) -> str:
    body = {"home_org": "hzsteel-rolling", "name": "Wang Xiaoming", "skill_grade": 4}
    member = await home.client.post(
        "/members", json=body, headers=token("hzsteel-rolling", "cadre")
    )
    member_id = member.json()["member_id"]
    asked = await home.client.post(
        "/enrollments",
        json={"programme_id": PROGRAMME},
        headers=token("hzsteel-rolling", "member", member_id=member_id),
    )
    assert asked.status_code == 202, asked.text
    assert asked.json()["status"] == "pending_approval"
    return str(asked.json()["id"])


@pytest.mark.parametrize("first_approves", [True, False])
async def test_cadres_deciding_at_once_make_one_decision(
    home, token, outbox, first_approves: bool
) -> None:
    enrollment_id = await _pending(home, token)
    cadre = token("hzsteel-rolling", "cadre")
    # Alternate approvals and rejections; whichever commits first wins.
    decisions = [(n % 2 == 0) == first_approves for n in range(PARALLEL)]

    answers = await asyncio.gather(
        *(
            home.client.post(
                f"/enrollments/{enrollment_id}/approval", json={"approve": d}, headers=cadre
            )
            for d in decisions
        )
    )

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * (PARALLEL - 1), statuses
    [won] = [a for a in answers if a.status_code == 200]
    rows = await outbox(home.db)
    inbox = [r for r in rows if r.topic == topics.inbox("cn")]
    decided = [r for r in rows if r.type.split(".")[2] in {"approved", "rejected"}]
    assert len(decided) == 1
    if won.json()["status"] == "requested":
        assert len(inbox) == 1
        assert decided[0].type == "bigschool.enrollment.approved.v1"
    else:
        assert inbox == []
        assert decided[0].type == "bigschool.enrollment.rejected.v1"
