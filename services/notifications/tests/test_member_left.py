"""A member who left the union or moved to another node: the notifications service forgets
everything that names them — contact data, planned and sent notices, the in-app inbox."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from notifications.models import Recipient
from shared.contracts.events import MemberLeft
from shared.messaging.consumer import Outcome


async def _recipient(node, member_id: str) -> Recipient | None:
    async with node.db.sessions() as session:
        return (
            await session.execute(select(Recipient).where(Recipient.member_id == member_id))
        ).scalar_one_or_none()


async def test_member_left_forgets_the_recipient_their_notices_and_their_inbox(node) -> None:
    leaving = await node.add_member(name="Zhao Lei", email="zhao@example.org", language="en")
    staying = await node.add_member(name="Qian Yu", email="qian@example.org", language="en")
    for member in (leaving, staying):
        await node.decide(member.member_id)
    await node.dispatcher.dispatch_once()
    assert len(await node.inbox(leaving.member_id)) == 1

    left = MemberLeft(
        member_id=leaving.member_id,
        home_org=leaving.home_org,
        left_at=datetime.now(UTC),
        reason="transferred",
    )
    assert await node.feed("recipients", left) is Outcome.handled

    assert await _recipient(node, leaving.member_id) is None
    assert await node.deliveries(leaving.member_id) == []
    assert await node.inbox(leaving.member_id) == []
    # Everyone else keeps theirs.
    assert await _recipient(node, staying.member_id) is not None
    assert len(await node.deliveries(staying.member_id)) == 2
    assert len(await node.inbox(staying.member_id)) == 1
