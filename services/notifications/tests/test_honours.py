# Chinese text takes full-width punctuation: correct here, not a look-alike typo.
# ruff: noqa: RUF001
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from deploy.local.smtp import SmtpSink
from notifications.domain.deliveries import Channel, delivery_id
from notifications.service.honours import plan_honour_notice
from notifications.templates import FALLBACK, render
from shared.contracts.envelope import envelope_for
from shared.contracts.events import HonourGranted, HonourKind, MemberLeft
from shared.messaging.consumer import Outcome

GRANTED_AT = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)  # the conftest clock's start
CHANNELS = (Channel.email, Channel.inapp)


def honour(*member_ids: str, kind: HonourKind = HonourKind.reward, **fields: Any) -> HonourGranted:
    values: dict[str, Any] = {
        "honour_id": str(uuid.uuid4()),
        "kind": kind,
        "source_id": str(uuid.uuid4()),
        "title": "Timely report",
        "granting_org": "steel",
        "home_org": "steel-rolling",
        "member_ids": list(member_ids),
        "amount_fen": 50_000,
        "reason": "Spotted a cracked roller before the shift",
        "granted_at": GRANTED_AT,
    }
    return HonourGranted(**{**values, **fields})


async def test_a_reward_tells_its_member_once_by_email_and_in_app_in_their_language(
    node, smtp_sink: SmtpSink
) -> None:
    member = await node.add_member(name="Li Lei", email="li@example.org", language="en")
    assert await node.feed("honours", honour(member.member_id)) is Outcome.handled

    assert await node.dispatcher.dispatch_once() == 2
    assert await node.dispatcher.dispatch_once() == 0
    [mail] = smtp_sink.messages
    assert mail.rcpt_tos == ("li@example.org",)
    assert mail.subject == "Immediate reward: Timely report"
    body = mail.message.get_content()
    assert "Dear Li Lei" in body
    assert "Steel has granted you an immediate reward, “Timely report”, of 500.00 yuan." in body
    assert "Reason: Spotted a cracked roller before the shift" in body
    [item] = await node.inbox(member.member_id)
    assert item.title == "Immediate reward: Timely report"
    assert item.event_type == HonourGranted.ce_type


async def test_a_team_award_tells_each_member_hosted_here_and_no_member_of_another_node(
    make_node,
) -> None:
    node = await make_node()
    here = [await node.add_member(), await node.add_member(home_org="steel", language="en")]
    of_another_node = str(uuid.uuid4())  # a miner of n2: never a recipient here
    # Even a stray record of a member whose home org another node hosts is not told here.
    stray = await node.add_member(home_org="mine-shaft")
    team = [m.member_id for m in here] + [of_another_node, stray.member_id]
    event = honour(*team, kind=HonourKind.award, title="Pioneer Worker", team_name="Crew 3")
    ce_id = str(uuid.uuid4())

    assert await node.feed("honours", event, ce_id) is Outcome.handled

    rows = await node.deliveries()
    expected = {delivery_id(ce_id, m.member_id, channel) for m in here for channel in CHANNELS}
    assert {d.delivery_id for d in rows} == expected
    assert sorted((d.member_id, d.channel) for d in rows) == sorted(
        (m.member_id, channel) for m in here for channel in CHANNELS
    )
    # A delivery names its own member only, not the rest of the team.
    assert all(of_another_node not in json.dumps(d.data) for d in rows)


async def test_a_redelivered_honour_adds_no_delivery(make_node) -> None:
    node = await make_node()
    member = await node.add_member()
    event = honour(member.member_id, kind=HonourKind.stipend, title="Model Worker", year=2025)
    record = node.record("honours", event, str(uuid.uuid4()))

    assert await node.consumers["honours"].process(record) is Outcome.handled
    assert await node.consumers["honours"].process(record) is Outcome.duplicate
    # The unique key holds even when the consumer's record of the event is gone.
    envelope = envelope_for(event, source="test", at=node.clock.now())
    added = []
    for _ in range(2):
        async with node.db.transaction() as session:
            added.append(await plan_honour_notice(session, node.ctx, event, envelope))
    assert added == [2, 0]
    assert len(await node.deliveries(member.member_id)) == 4  # two events, two channels each


async def test_an_honour_older_than_the_notice_age_tells_nobody(make_node) -> None:
    node = await make_node(notify_max_age_hours=72)
    member = await node.add_member()
    record = node.record("honours", honour(member.member_id))
    node.clock.advance(73 * 3600)

    assert await node.consumers["honours"].process(record) is Outcome.handled
    assert await node.deliveries() == []


async def test_a_member_who_left_is_not_told_and_keeps_no_honour_notice_here(make_node) -> None:
    node = await make_node()
    stays, leaves = await node.add_member(), await node.add_member()
    await node.feed("honours", honour(stays.member_id, leaves.member_id, kind=HonourKind.award))
    left = MemberLeft(
        member_id=leaves.member_id, home_org="steel-rolling", left_at=GRANTED_AT, reason="left"
    )
    assert await node.feed("recipients", left) is Outcome.handled
    await node.feed("honours", honour(stays.member_id, leaves.member_id, kind=HonourKind.award))

    rows = await node.deliveries()
    assert {d.member_id for d in rows} == {stays.member_id}
    assert len(rows) == 4  # two honours, two channels
    assert all(leaves.member_id not in json.dumps(d.data) for d in rows)


@pytest.mark.parametrize("kind", list(HonourKind))
@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_honour_kind_has_its_own_message_with_the_amount_in_yuan(
    kind: HonourKind, language: str
) -> None:
    data = honour("m-1", kind=kind, amount_fen=123_456, year=2025).model_dump(mode="json")

    message = render(HonourGranted.ce_type, language, data, "王芳")

    assert message.subject != FALLBACK[language].subject
    assert "Timely report" in message.title
    assert "1,234.56" in message.body and "123456" not in message.body


def test_an_award_names_the_team_the_granting_org_and_the_reason_in_chinese() -> None:
    data = honour("m-1", kind=HonourKind.award, title="工人先锋号", team_name="三号高炉班组")
    fields = data.model_dump(mode="json") | {"granting_org_name": "杭钢集团工会"}

    message = render(HonourGranted.ce_type, "zh", fields, "王芳")

    assert message.title == "您已荣获“工人先锋号”"
    assert (
        "经杭钢集团工会评定，您所在的集体“三号高炉班组”已荣获“工人先锋号”，奖金 500.00 元。"
        in message.body
    )
    assert "事由：Spotted a cracked roller" in message.body


def test_an_award_without_money_or_reason_says_neither() -> None:
    data = honour("m-1", kind=HonourKind.award, title="Model Worker", amount_fen=0, reason="")

    message = render(HonourGranted.ce_type, "en", data.model_dump(mode="json"), "Li Lei")

    assert "steel has awarded “Model Worker” to you." in message.body
    assert "yuan" not in message.body and "Reason" not in message.body


def test_a_stipend_names_its_year_and_an_odd_amount_keeps_its_fen() -> None:
    data = honour("m-1", kind=HonourKind.stipend, title="劳动模范", amount_fen=100_005, year=2026)

    zh = render(HonourGranted.ce_type, "zh", data.model_dump(mode="json"), "王芳")
    en = render(HonourGranted.ce_type, "en", data.model_dump(mode="json"), "Wang Fang")

    assert "您“劳动模范”称号的2026年度荣誉津贴 1,000.05 元已发放。" in zh.body
    assert "the yearly stipend of your title “劳动模范” for 2026 has been paid: 1,000.05 yuan." in (
        en.body
    )
