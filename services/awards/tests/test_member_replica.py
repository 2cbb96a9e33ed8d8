"""The awards service keeps this node's members from the node-local topic: id, home org and
display name only, and forgets them when they leave."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import inspect

from awards import member_repository
from awards.models import MemberReplica
from shared.contracts import topics
from shared.contracts.events import MemberLeft, MemberRegistered
from shared.messaging.consumer import Outcome

NODE = "hzsteel"  # the node the app fixture runs
NOW = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)


def _registered(member_id: str, home_org: str = "hzsteel-rolling") -> MemberRegistered:
    return MemberRegistered(
        member_id=member_id,
        home_org=home_org,
        name="李雷",
        email="lilei@example.com",
        phone="+8613800000000",
    )


async def _feed(bus, event: MemberRegistered | MemberLeft) -> Outcome:
    record, _ = bus.record(event, topics.members(NODE))
    return await bus.deliver("members", record)


async def test_a_registered_member_is_kept_without_contact_data(app, bus) -> None:
    member_id = str(uuid.uuid4())
    assert await _feed(bus, _registered(member_id)) is Outcome.handled
    async with app.state.runtime.db.reading() as session:
        member = await member_repository.get_member(session, member_id)
    assert member is not None
    assert (member.home_org, member.display_name) == ("hzsteel-rolling", "李雷")
    columns = {c.key for c in inspect(MemberReplica).columns}
    assert not columns & {"email", "phone", "national_id"}


async def test_a_move_within_the_node_changes_the_home_org(app, bus) -> None:
    member_id = str(uuid.uuid4())
    await _feed(bus, _registered(member_id))
    await _feed(bus, _registered(member_id, "hzsteel-casting"))
    async with app.state.runtime.db.reading() as session:
        member = await member_repository.get_member(session, member_id)
        counted = await member_repository.count_members(session, ["hzsteel-casting"])
    assert member is not None and member.home_org == "hzsteel-casting"
    assert counted == 1


async def test_a_member_who_leaves_is_forgotten(app, bus) -> None:
    member_id = str(uuid.uuid4())
    await _feed(bus, _registered(member_id))
    left = MemberLeft(member_id=member_id, home_org="hzsteel-rolling", left_at=NOW, reason="left")
    assert await _feed(bus, left) is Outcome.handled
    async with app.state.runtime.db.reading() as session:
        assert await member_repository.get_member(session, member_id) is None
