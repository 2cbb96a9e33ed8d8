"""Preferences and digests on PostgreSQL, with replicas: digest workers building at the same
moment lock a member's held rows (FOR UPDATE, no skipping), so each member gets ONE digest;
quiet hours defer on PostgreSQL as on SQLite. `fresh_pg_url` comes from the repository's root
conftest (tests/fixtures.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from deploy.local.smtp import SmtpSink
from notifications.domain.digest import DIGEST
from shared.contracts.events import EnrollmentCompleted, QualityArea

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)  # the conftest clock's start
DIGEST_AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
HOME = "steel-rolling"


def completed(member_id: str, title: str) -> EnrollmentCompleted:
    return EnrollmentCompleted(
        enrollment_id=str(uuid.uuid4()),
        programme_id=str(uuid.uuid4()),
        member_id=member_id,
        owner_org="steel",
        home_org=HOME,
        completed_at=START,
        hours=12,
        quality_area=QualityArea.safety_health,
        programme_title=title,
        programme_kind="training",
        programme_ends_at=START,
    )


async def put_preferences(node: Any, member_id: str, body: dict[str, Any]) -> None:
    token = node.token(org=HOME, roles=["member"], member_id=member_id)
    transport = httpx.ASGITransport(app=node.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as api:
        response = await api.put(
            "/preferences/me", json=body, headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 200, response.text


async def test_replicas_building_digests_together_send_one_per_member(
    make_node: Any, fresh_pg_url: str, smtp_sink: SmtpSink
) -> None:
    replicas = [
        await make_node(database_url=fresh_pg_url, smtp_port=smtp_sink.port, digest_batch_members=3)
        for _ in range(3)
    ]
    node = replicas[0]
    members = [await node.add_member(email=f"d{n}@example.org") for n in range(8)]
    for member in members:
        await put_preferences(node, member.member_id, {"digest_hour": 20, "language": "en"})
        for title in ("One", "Two"):
            assert await node.feed("enrollment_events", completed(member.member_id, title))
    node.clock.advance((DIGEST_AT - START).total_seconds())

    await asyncio.gather(*(r.app.state.digests.run_once() for r in replicas))
    for _ in range(5):
        if not any(await asyncio.gather(*(r.dispatcher.dispatch_once() for r in replicas))):
            break

    per_address = Counter(m.rcpt_tos[0] for m in smtp_sink.messages)
    assert per_address == Counter({f"d{n}@example.org": 1 for n in range(8)})
    assert all("2 notices" in m.subject for m in smtp_sink.messages)
    statuses = Counter((d.event_type == DIGEST, d.status) for d in await node.deliveries())
    assert statuses == Counter({(True, "sent"): 8, (False, "digested"): 16, (False, "sent"): 16})


async def test_quiet_hours_defer_on_postgresql(
    make_node: Any, fresh_pg_url: str, smtp_sink: SmtpSink
) -> None:
    node = await make_node(database_url=fresh_pg_url, smtp_port=smtp_sink.port)
    member = await node.add_member(email="quiet@example.org")
    await put_preferences(node, member.member_id, {"quiet_hours": "08:00-10:00"})
    await node.decide(member.member_id)

    await node.dispatcher.dispatch_once()
    assert smtp_sink.messages == []
    node.clock.advance(3600)  # 10:00 in Shanghai
    await node.dispatcher.dispatch_once()
    assert len(smtp_sink.messages) == 1
