# Chinese text takes full-width punctuation: correct here, not a look-alike typo.
# ruff: noqa: RUF001
"""Reminders before a programme starts and news of its changes: each member of this node
holding a seat is reminded `reminder_hours` before the start — not earlier, once, even
across a restart — at the new time when the start moves, never after giving the seat up;
and is told what changed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from deploy.local.smtp import SmtpSink
from notifications.domain.notices import PROGRAMME_REMINDER
from shared.contracts.base import Event
from shared.contracts.events import (
    EnrollmentCancelled,
    EnrollmentConfirmed,
    ProgrammeCancelled,
    ProgrammeChanged,
    ProgrammePublished,
    QualityArea,
)
from shared.messaging.consumer import Outcome

AT = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)  # the conftest clock's start
STARTS = datetime(2025, 3, 4, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, three days on
PROGRAMME_ID = "prog-crane-7"
TITLE = "Safe crane operation"
CATALOGUE = "catalogue"


def programme(model: type[ProgrammePublished] = ProgrammePublished, **fields: Any) -> Event:
    values: dict[str, Any] = {
        "programme_id": PROGRAMME_ID,
        "owner_org": "steel",
        "owner_node": "n1",
        "title": TITLE,
        "kind": "training",
        "quality_area": QualityArea.safety_health,
        "audience": ["steel"],
        "capacity": 30,
        "hours": 12,
        "starts_at": STARTS,
        "ends_at": STARTS + timedelta(hours=8),
        "place": "Training hall 2",
    }
    return model(**{**values, **fields})


def confirmed(member_id: str, home_org: str = "steel-rolling") -> EnrollmentConfirmed:
    return EnrollmentConfirmed(
        enrollment_id=str(uuid.uuid4()),
        programme_id=PROGRAMME_ID,
        member_id=member_id,
        owner_org="steel",
        home_org=home_org,
        decided_at=AT,
        sequence=1,
        programme_title=TITLE,
        hours=12,
    )


async def seated(node: Any, language: str = "zh", home_org: str = "steel-rolling") -> str:
    member = await node.add_member(
        email=f"{uuid.uuid4().hex[:8]}@example.org", language=language, home_org=home_org
    )
    assert await node.feed(CATALOGUE, confirmed(member.member_id, home_org)) is Outcome.handled
    return str(member.member_id)


async def reminders_of(node: Any, member_id: str) -> list[Any]:
    return [d for d in await node.deliveries(member_id) if d.event_type == PROGRAMME_REMINDER]


def move_to(node: Any, at: datetime) -> None:
    node.clock.advance((at - node.clock.now()).total_seconds())


async def test_a_seat_holder_is_reminded_a_day_before_the_start_and_not_earlier(
    node: Any, smtp_sink: SmtpSink
) -> None:
    await node.feed(CATALOGUE, programme())
    zh, en = await seated(node, "zh"), await seated(node, "en")
    worker = node.app.state.reminders

    move_to(node, STARTS - timedelta(hours=24, seconds=1))
    assert await worker.run_once() == 0
    assert await reminders_of(node, zh) == []

    move_to(node, STARTS - timedelta(hours=24))
    assert await worker.run_once() == 2
    assert await worker.run_once() == 0
    assert len(await reminders_of(node, zh)) == 2  # e-mail and in-app
    assert len(await reminders_of(node, en)) == 2
    assert await node.dispatcher.dispatch_once() == 4
    subjects = sorted(m.subject for m in smtp_sink.messages)
    assert subjects == [
        f"Reminder: {TITLE} starts 2025-03-04 09:00",
        f"开课提醒：{TITLE}（2025-03-04 09:00 开始）",
    ]
    bodies = " ".join(m.message.get_content() for m in smtp_sink.messages)
    assert "Training hall 2" in bodies


async def test_a_reminder_is_sent_once_even_after_a_restart(make_node: Any) -> None:
    first = await make_node()
    await first.feed(CATALOGUE, programme())
    member = await seated(first)
    move_to(first, STARTS - timedelta(hours=23))
    assert await first.app.state.reminders.run_once() == 1

    # A new app on the same database: nothing is due again, nothing is doubled.
    second = await make_node(database_url=first.settings.database_url)
    assert await second.app.state.reminders.run_once() == 0
    assert len(await reminders_of(second, member)) == 2


async def test_a_reminder_due_while_the_node_was_down_is_sent_once_when_it_is_back(
    make_node: Any,
) -> None:
    first = await make_node()
    await first.feed(CATALOGUE, programme())
    member = await seated(first)
    await first.db.dispose()  # down before the reminder is due

    second = await make_node(database_url=first.settings.database_url)
    move_to(second, STARTS - timedelta(hours=2))
    assert await second.app.state.reminders.run_once() == 1
    third = await make_node(database_url=first.settings.database_url)
    assert await third.app.state.reminders.run_once() == 0
    assert len(await reminders_of(third, member)) == 2


async def test_a_new_start_moves_the_reminder_and_tells_the_seat_holders(
    node: Any, smtp_sink: SmtpSink
) -> None:
    await node.feed(CATALOGUE, programme())
    zh, en = await seated(node, "zh"), await seated(node, "en")
    later = STARTS + timedelta(days=2)
    changed = programme(ProgrammeChanged, starts_at=later, ends_at=later + timedelta(hours=8))
    changed = changed.model_copy(update={"changed": ["starts_at", "ends_at"]})
    event_id = str(uuid.uuid4())
    for _ in range(3):
        await node.feed(CATALOGUE, changed, event_id)

    told = [d for d in await node.deliveries() if d.event_type == ProgrammeChanged.ce_type]
    assert sorted(d.member_id for d in told) == sorted([zh, zh, en, en])
    assert await node.dispatcher.dispatch_once() == 4
    mails = {m.subject: m.message.get_content() for m in smtp_sink.messages}
    assert "开始时间、结束时间" in mails[f"项目变更：{TITLE}"]
    assert "2025-03-06 09:00" in mails[f"项目变更：{TITLE}"]
    assert "changed: start, end" in mails[f"Programme changed: {TITLE}"]

    worker = node.app.state.reminders
    move_to(node, STARTS - timedelta(hours=23))  # when the old reminder was due
    assert await worker.run_once() == 0
    move_to(node, later - timedelta(hours=24))
    assert await worker.run_once() == 2
    assert len(await reminders_of(node, zh)) == 2


async def test_a_change_that_leaves_the_start_sends_no_second_reminder(node: Any) -> None:
    await node.feed(CATALOGUE, programme())
    member = await seated(node)
    move_to(node, STARTS - timedelta(hours=20))
    assert await node.app.state.reminders.run_once() == 1
    moved = programme(ProgrammeChanged, place="Training hall 5")
    await node.feed(CATALOGUE, moved.model_copy(update={"changed": ["place"]}))
    assert await node.app.state.reminders.run_once() == 0
    assert len(await reminders_of(node, member)) == 2


async def test_a_seat_given_up_or_a_cancelled_programme_gets_no_reminder(node: Any) -> None:
    await node.feed(CATALOGUE, programme())
    kept = await seated(node)
    member = await node.add_member()
    seat = confirmed(member.member_id)
    await node.feed(CATALOGUE, seat)
    gone = EnrollmentCancelled(
        **seat.model_dump(include={"enrollment_id", "programme_id", "member_id"}),
        owner_org="steel",
        home_org="steel-rolling",
        cancelled_at=AT,
        by="member",
        was="confirmed",
    )
    await node.feed(CATALOGUE, gone)
    move_to(node, STARTS - timedelta(hours=1))
    assert await node.app.state.reminders.run_once() == 1
    assert await reminders_of(node, member.member_id) == []
    assert len(await reminders_of(node, kept)) == 2


async def test_a_cancelled_programme_reminds_nobody(node: Any) -> None:
    await node.feed(CATALOGUE, programme())
    member = await seated(node)
    cancelled = ProgrammeCancelled(
        programme_id=PROGRAMME_ID,
        owner_org="steel",
        owner_node="n1",
        audience=["steel"],
        cancelled_at=AT,
    )
    await node.feed(CATALOGUE, cancelled)
    move_to(node, STARTS - timedelta(hours=1))
    assert await node.app.state.reminders.run_once() == 0
    assert await reminders_of(node, member) == []


async def test_a_seat_of_another_nodes_member_is_not_kept_here(node: Any) -> None:
    await node.feed(CATALOGUE, programme())
    miner = await seated(node, home_org="mine-shaft")
    move_to(node, STARTS - timedelta(hours=1))
    assert await node.app.state.reminders.run_once() == 0
    assert await node.deliveries(miner) == []


async def test_a_seat_confirmed_after_the_reminder_time_is_reminded_at_once_not_after_the_start(
    node: Any,
) -> None:
    await node.feed(CATALOGUE, programme())
    move_to(node, STARTS - timedelta(hours=3))
    member = await seated(node)
    assert await node.app.state.reminders.run_once() == 1
    move_to(node, STARTS + timedelta(hours=1))
    late = await seated(node)
    assert await node.app.state.reminders.run_once() == 0
    assert len(await reminders_of(node, member)) == 2
    assert await reminders_of(node, late) == []
