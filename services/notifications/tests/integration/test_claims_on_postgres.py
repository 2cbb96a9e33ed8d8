"""Several dispatchers on one PostgreSQL database (service replicas): `FOR UPDATE SKIP LOCKED`
plus the lease give each due delivery to exactly one of them. `fresh_pg_url` comes from the
repository's root conftest (tests/fixtures.py)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from deploy.local.smtp import SmtpSink
from notifications.service.dispatching import claim_due

pytestmark = pytest.mark.integration


async def test_a_second_dispatcher_skips_the_rows_another_is_claiming(
    make_node, fresh_pg_url
) -> None:
    first = await make_node(database_url=fresh_pg_url)
    second = await make_node(database_url=fresh_pg_url)
    for _ in range(10):
        member = await first.add_member()
        await first.decide(member.member_id)

    async with first.db.transaction() as one:
        mine = await claim_due(one, first.ctx, 12)
        async with second.db.transaction() as other:
            # SKIP LOCKED: no waiting for the first claim, and none of its rows.
            theirs = await asyncio.wait_for(claim_due(other, second.ctx, 12), timeout=5)

    assert len(mine) == 12 and len(theirs) == 8
    assert not {d.delivery_id for d in mine} & {d.delivery_id for d in theirs}
    async with first.db.transaction() as again:
        assert await claim_due(again, first.ctx, 20) == []  # all leased now


async def test_replicas_dispatching_together_send_each_email_once(
    make_node, fresh_pg_url, smtp_sink: SmtpSink
) -> None:
    replicas = [
        await make_node(database_url=fresh_pg_url, smtp_port=smtp_sink.port, dispatch_batch_size=5)
        for _ in range(3)
    ]
    members = [await replicas[0].add_member(email=f"m{n}@example.org") for n in range(20)]
    for member in members:
        await replicas[0].decide(member.member_id)

    for _ in range(10):
        claimed = await asyncio.gather(*(r.dispatcher.dispatch_once() for r in replicas))
        if not any(claimed):
            break

    per_address = Counter(m.rcpt_tos[0] for m in smtp_sink.messages)
    assert per_address == Counter({f"m{n}@example.org": 1 for n in range(20)})
    statuses = Counter(d.status for d in await replicas[0].deliveries())
    assert statuses == Counter({"sent": 40})
    inboxes = [await replicas[0].inbox(m.member_id) for m in members]
    assert [len(items) for items in inboxes] == [1] * 20
