"""The daily digest: a member with a digest hour gets the day's low-priority e-mails as ONE
message at that local hour (in-app items at once), exactly once, whatever crashes between.

The clock starts at 2025-03-01 01:00 UTC, 09:00 in Shanghai; the digest hour used is 20:00
in Shanghai, 12:00 UTC.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from deploy.local.smtp import SmtpSink
from notifications.domain.deliveries import Channel, delivery_id
from notifications.domain.digest import DIGEST, digest_ce_id
from notifications.models import Delivery
from notifications.service.digest import build_due_digests
from shared.contracts.base import Event
from shared.contracts.events import CertificateIssued, EnrollmentCompleted, QualityArea

# The conftest's `Node`; conftest modules are not importable under --import-mode=importlib.
Node = Any
START = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)  # the conftest clock's start
DIGEST_AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
HOME = "steel-rolling"


@pytest.fixture
async def api(node: Node) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=node.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def _fact(member_id: str) -> dict[str, Any]:
    return {
        "enrollment_id": str(uuid.uuid4()),
        "programme_id": str(uuid.uuid4()),
        "member_id": member_id,
        "owner_org": "steel",
        "home_org": HOME,
    }


def completed(member_id: str, title: str) -> Event:
    return EnrollmentCompleted(
        **_fact(member_id),
        completed_at=START,
        hours=12,
        quality_area=QualityArea.safety_health,
        programme_title=title,
        programme_kind="training",
        programme_ends_at=START,
    )


def certificate(member_id: str, certificate_id: str) -> Event:
    return CertificateIssued(**_fact(member_id), certificate_id=certificate_id, issued_at=START)


async def digest_member(node: Node, api: httpx.AsyncClient, **preferences: Any) -> str:
    member = await node.add_member(email="digest@example.org")
    headers = {
        "Authorization": "Bearer "
        + node.token(org=HOME, roles=["member"], member_id=member.member_id)
    }
    body = {"time_zone": "Asia/Shanghai", "digest_hour": 20, **preferences}
    response = await api.put("/preferences/me", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return str(member.member_id)


def mails(sink: SmtpSink) -> list[Any]:
    return [m for m in sink.messages if "digest@example.org" in m.rcpt_tos]


async def settle(node: Node) -> None:
    """One pass of the digest worker, then of the dispatcher."""
    await node.app.state.digests.run_once()
    await node.dispatcher.dispatch_once()


async def test_the_digest_batches_the_days_low_priority_items_into_one_email_at_the_chosen_hour(
    node: Node, api: httpx.AsyncClient, smtp_sink: SmtpSink
) -> None:
    member = await digest_member(node, api, language="en")
    titles = ["Safe crane operation", "Welding basics"]
    for title in titles:
        assert await node.feed("enrollment_events", completed(member, title))
    assert await node.feed("enrollment_events", certificate(member, "CERT-7"))
    held = [d for d in await node.deliveries(member) if d.channel == "email"]
    assert {(d.status, d.next_attempt_at) for d in held} == {("digest", DIGEST_AT)}

    await settle(node)
    assert len(await node.inbox(member)) == 3  # in-app items appear at once
    node.clock.advance((DIGEST_AT - START).total_seconds() - 1)  # 19:59:59 in Shanghai
    await settle(node)
    assert mails(smtp_sink) == []  # nothing earlier

    node.clock.advance(1)
    await settle(node)
    await settle(node)  # a second pass finds nothing more

    [mail] = mails(smtp_sink)
    assert mail.subject == "Your daily digest for 2025-03-01: 3 notices"
    body = mail.message.get_content()
    for line in (
        "• Programme completed: Safe crane operation",
        "• Programme completed: Welding basics",
        "• Certificate issued: ",
    ):
        assert line in body
    told = [
        d for d in await node.deliveries(member) if d.delivery_id in {h.delivery_id for h in held}
    ]
    assert len(told) == 3 and {d.status for d in told} == {"digested"}
    assert [d.status for d in await node.deliveries(member) if d.event_type == DIGEST] == ["sent"]


async def test_a_digest_lists_the_titles_in_the_members_language(
    node: Node, api: httpx.AsyncClient, smtp_sink: SmtpSink
) -> None:
    member = await digest_member(node, api, language="zh")
    assert await node.feed("enrollment_events", completed(member, "起重安全"))
    node.clock.advance((DIGEST_AT - START).total_seconds())
    await settle(node)

    [mail] = mails(smtp_sink)
    assert mail.subject == "每日通知汇总（2025-03-01）：共 1 条"  # noqa: RUF001
    assert "• 学习完成：起重安全" in mail.message.get_content()  # noqa: RUF001


async def test_what_arrives_after_the_hour_waits_for_the_next_days_digest(
    node: Node, api: httpx.AsyncClient, smtp_sink: SmtpSink
) -> None:
    member = await digest_member(node, api)
    node.clock.advance((DIGEST_AT - START).total_seconds() + 60)  # 20:01 in Shanghai
    assert await node.feed("enrollment_events", completed(member, "Late news"))
    email = await node.delivery(member, "email")
    assert email.next_attempt_at == DIGEST_AT + timedelta(days=1)
    await settle(node)
    assert mails(smtp_sink) == []


async def test_normal_priority_news_is_not_held_for_the_digest(
    node: Node, api: httpx.AsyncClient, smtp_sink: SmtpSink
) -> None:
    member = await digest_member(node, api)
    await node.decide(member)  # an enrollment decision: normal priority
    email = await node.delivery(member, "email")
    assert (email.status, email.next_attempt_at) == ("pending", START)
    await node.dispatcher.dispatch_once()
    assert len(mails(smtp_sink)) == 1


async def test_a_digest_is_built_once_even_when_a_build_is_lost_midway(
    node: Node, api: httpx.AsyncClient, smtp_sink: SmtpSink
) -> None:
    member = await digest_member(node, api, language="en")
    assert await node.feed("enrollment_events", completed(member, "Crash course"))
    node.clock.advance((DIGEST_AT - START).total_seconds())

    class Crash(Exception):
        pass

    with pytest.raises(Crash):  # the transaction that built it rolls back: nothing happened
        async with node.db.transaction() as session:
            assert await build_due_digests(session, node.ctx, limit=10) == 1
            raise Crash
    assert (await node.delivery(member, "email")).status == "digest"

    await settle(node)
    await settle(node)

    assert len(mails(smtp_sink)) == 1
    ce_id = digest_ce_id(member, DIGEST_AT, "2025-03-01")
    async with node.db.reading() as session:
        digests = list(
            (await session.execute(select(Delivery).where(Delivery.event_type == DIGEST)))
            .scalars()
            .all()
        )
    assert [d.delivery_id for d in digests] == [delivery_id(ce_id, member, Channel.email)]


async def test_the_worker_works_in_bounded_batches_until_nothing_is_due(
    make_node: Callable[..., Awaitable[Node]], smtp_sink: SmtpSink
) -> None:
    node = await make_node(smtp_port=smtp_sink.port, digest_batch_members=2)
    transport = httpx.ASGITransport(app=node.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as api:
        members = []
        for n in range(5):
            member = await node.add_member(email=f"m{n}@example.org")
            token = node.token(org=HOME, roles=["member"], member_id=member.member_id)
            response = await api.put(
                "/preferences/me",
                json={"digest_hour": 20},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200
            assert await node.feed("enrollment_events", completed(member.member_id, "X"))
            members.append(member.member_id)
    node.clock.advance((DIGEST_AT - START).total_seconds())

    async with node.db.transaction() as session:
        assert await build_due_digests(session, node.ctx, limit=2) == 2  # one batch: two
    assert await node.app.state.digests.run_once() == 3  # the rest, two then one
    await node.dispatcher.dispatch_once()

    assert len(smtp_sink.messages) == 5
