# Chinese text takes full-width punctuation: correct here, not a look-alike typo.
# ruff: noqa: RUF001
"""Who is told what: every member-facing event with a rule (service/rules.py) reaches each
member it concerns once by e-mail and once in the inbox, in their language, with its facts."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from deploy.local.smtp import SmtpSink
from notifications.service.planning import plan_event
from notifications.service.rules import AWARDS, ENROLLMENT, MEMBERS, RULES, rules_of
from notifications.templates import TEMPLATES, VARIANTS
from shared.contracts.base import Event
from shared.contracts.envelope import envelope_for
from shared.contracts.events import (
    CertificateIssued,
    EnrollmentCancelled,
    EnrollmentCompleted,
    EnrollmentOffered,
    EnrollmentOfferExpired,
    NominationDecided,
    NominationReturned,
    ProposalEvaluated,
    QualityArea,
)
from shared.contracts.events.nominations import NominationState
from shared.messaging.consumer import Outcome

AT = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)  # the conftest clock's start
PLACEHOLDER = re.compile(r"\{[A-Za-z_]+\}")
HAN = re.compile(r"[\u4e00-\u9fff]")
TITLE = "Safe crane operation"
PROGRAMME_ID = "prog-crane-7"
HOME = "steel-rolling"


def fact(member_id: str, home_org: str = HOME) -> dict[str, Any]:
    return {
        "enrollment_id": str(uuid.uuid4()),
        "programme_id": PROGRAMME_ID,
        "member_id": member_id,
        "owner_org": "steel",
        "home_org": home_org,
    }


def offered(member_id: str, home_org: str = HOME) -> Event:
    return EnrollmentOffered(
        **fact(member_id, home_org),
        sequence=4,
        offered_at=AT,
        offer_expires_at=datetime(2025, 3, 3, 6, 0, tzinfo=UTC),  # 14:00 in Shanghai
        programme_title=TITLE,
    )


def evaluated(step: str, **fields: Any) -> Callable[..., Event]:
    def make(member_id: str, home_org: str = HOME) -> Event:
        return ProposalEvaluated(
            proposal_id=str(uuid.uuid4()),
            member_id=member_id,
            home_org=home_org,
            evaluating_org="steel",
            title="Pre-heat the rolls",
            step=step,
            state={"reject": "rejected", "assess": "assessed"}[step],
            at=AT,
            **fields,
        )

    return make


def expired(member_id: str, home_org: str = HOME) -> Event:
    return EnrollmentOfferExpired(**fact(member_id, home_org), expired_at=AT)


def cancelled_by(by: str) -> Callable[..., Event]:
    def make(member_id: str, home_org: str = HOME) -> Event:
        return EnrollmentCancelled(
            **fact(member_id, home_org), cancelled_at=AT, by=by, was="confirmed"
        )

    return make


def completed(member_id: str, home_org: str = HOME) -> Event:
    return EnrollmentCompleted(
        **fact(member_id, home_org),
        completed_at=AT,
        hours=12,
        quality_area=QualityArea.safety_health,
        programme_title=TITLE,
        programme_kind="training",
        programme_ends_at=AT,
        score=92.5,
        rank=3,
    )


def certificate(member_id: str, home_org: str = HOME) -> Event:
    return CertificateIssued(
        **fact(member_id, home_org), certificate_id="CERT-2025-0042", issued_at=AT
    )


def state(member_ids: list[str], home_org: str, status: str, team: str | None) -> NominationState:
    return NominationState(
        nomination_id=str(uuid.uuid4()),
        scheme_id="model-worker",
        round_id="2025",
        owner_org="fed",
        home_org=home_org,
        nominee="team" if team else "member",
        member_ids=member_ids,
        team_name=team,
        stages=["steel"],
        status=status,
    )


def returned(*member_ids: str, home_org: str = HOME, team: str | None = None) -> Event:
    return NominationReturned(
        state=state(list(member_ids), home_org, "returned", team),
        step=3,
        actor="cadre-steel",
        actor_org="steel",
        at=AT,
        reason="The dossier lacks the attendance record",
    )


def decided(granted: bool) -> Callable[..., Event]:
    def make(*member_ids: str, home_org: str = HOME, team: str | None = None) -> Event:
        return NominationDecided(
            state=state(list(member_ids), home_org, "granted" if granted else "rejected", team),
            step=9,
            actor="cadre-fed",
            actor_org="fed",
            at=AT,
            reason="Outstanding safety record" if granted else "Below the round's quota line",
            decided_by="cadre-fed",
            decided_at=AT,
            amount_fen=100_000 if granted else 0,
        )

    return make


@dataclass(frozen=True)
class Case:
    make: Callable[..., Event]
    consumer: str
    # Facts the subject and the body must state, per language.
    subject: dict[str, list[str]]
    body: dict[str, list[str]]


CASES: dict[str, Case] = {
    "offered": Case(
        offered,
        ENROLLMENT,
        subject={"zh": [TITLE, "2025-03-03 14:00"], "en": [TITLE, "2025-03-03 14:00"]},
        body={
            "zh": [TITLE, "保留至 2025-03-03 14:00", "王芳，您好"],
            "en": [TITLE, "until 2025-03-03 14:00", "Dear Li Lei"],
        },
    ),
    "offer_expired": Case(
        expired,
        ENROLLMENT,
        subject={
            "zh": ["名额保留已过期", PROGRAMME_ID],
            "en": ["Seat offer expired", PROGRAMME_ID],
        },
        body={"zh": ["未在期限内确认", PROGRAMME_ID], "en": ["not taken in time", PROGRAMME_ID]},
    ),
    "cancelled_by_owner": Case(
        cancelled_by("owner"),
        ENROLLMENT,
        subject={"zh": ["报名已被取消"], "en": ["Enrollment cancelled"]},
        body={"zh": ["主办单位已取消"], "en": ["the organiser has cancelled"]},
    ),
    "programme_cancelled": Case(
        cancelled_by("programme_cancelled"),
        ENROLLMENT,
        subject={"zh": ["项目已取消"], "en": ["Programme cancelled"]},
        body={"zh": ["已取消，您的报名随之取消"], "en": ["has been cancelled"]},
    ),
    "completed": Case(
        completed,
        ENROLLMENT,
        subject={"zh": ["学习完成", TITLE], "en": ["Programme completed", TITLE]},
        body={
            "zh": [TITLE, "计入 12 学时", "成绩 92.5 分", "名次第 3 名"],
            "en": [TITLE, "12 hours", "a score of 92.5", "ranked 3"],
        },
    ),
    "certificate": Case(
        certificate,
        ENROLLMENT,
        subject={"zh": ["结业证书已签发"], "en": ["Certificate issued"]},
        body={"zh": ["CERT-2025-0042"], "en": ["no. CERT-2025-0042"]},
    ),
    "nomination_returned": Case(
        returned,
        AWARDS,
        subject={"zh": ["退回修改"], "en": ["returned for correction"]},
        body={
            "zh": ["已被Steel退回", "事由：The dossier lacks the attendance record"],
            "en": ["Steel has returned", "Reason: The dossier lacks the attendance record"],
        },
    ),
    "nomination_granted": Case(
        decided(granted=True),
        AWARDS,
        subject={"zh": ["已获通过"], "en": ["granted"]},
        body={
            "zh": ["经Fed决定", "已获通过", "奖金 1,000.00 元", "事由：Outstanding safety record"],
            "en": ["Fed has decided", "is granted, with 1,000.00 yuan", "Outstanding safety"],
        },
    ),
    "proposal_rejected": Case(
        evaluated("reject", note="Already in place since 2024"),
        MEMBERS,
        subject={"zh": ["未被采纳", "Pre-heat the rolls"], "en": ["not adopted", "Pre-heat"]},
        body={
            "zh": ["Steel评审了您的合理化建议", "事由：Already in place since 2024"],
            "en": ["Steel has evaluated your proposal", "Reason: Already in place since 2024"],
        },
    ),
    "proposal_assessed": Case(
        evaluated("assess", benefit_fen=30_000_000, note="Metered over three months"),
        MEMBERS,
        subject={"zh": ["效益已评定"], "en": ["Proposal assessed: Pre-heat the rolls"]},
        body={"zh": ["300,000.00 元"], "en": ["at 300,000.00 yuan"]},
    ),
    "nomination_rejected": Case(
        decided(granted=False),
        AWARDS,
        subject={"zh": ["未获通过"], "en": ["not granted"]},
        body={
            "zh": ["未获通过", "事由：Below the round's quota line"],
            "en": ["is not granted", "Reason: Below the round's quota line"],
        },
    ),
}


def test_every_rule_has_a_message_in_both_languages_and_rides_its_consumer() -> None:
    for event_type, rule in RULES.items():
        templates = (
            list(VARIANTS[event_type][1].values())
            if event_type in VARIANTS
            else [TEMPLATES[event_type]]
        )
        assert all(set(t) == {"zh", "en"} for t in templates), event_type
        assert rule.consumer in (ENROLLMENT, AWARDS, MEMBERS)
    covered = {rule.event for c in (ENROLLMENT, AWARDS, MEMBERS) for rule in rules_of(c)}
    assert {type(case.make(str(uuid.uuid4()))) for case in CASES.values()} <= covered


@pytest.mark.parametrize("name", list(CASES))
async def test_each_member_is_told_once_by_email_and_in_app_in_their_language(
    name: str, node, smtp_sink: SmtpSink
) -> None:
    case = CASES[name]
    zh = await node.add_member(name="王芳", email="wang@example.org", language="zh")
    en = await node.add_member(name="Li Lei", email="li@example.org", language="en")
    for member in (zh, en):
        assert await node.feed(case.consumer, case.make(member.member_id)) is Outcome.handled

    assert await node.dispatcher.dispatch_once() == 4
    assert await node.dispatcher.dispatch_once() == 0
    mails = {m.rcpt_tos[0]: m for m in smtp_sink.messages}
    assert len(smtp_sink.messages) == 2
    for member, language, address in ((zh, "zh", "wang@example.org"), (en, "en", "li@example.org")):
        mail = mails[address]
        body = mail.message.get_content()
        [item] = await node.inbox(member.member_id)
        for text in (mail.subject, body, item.title, item.body):
            assert not PLACEHOLDER.search(text), text
            assert bool(HAN.search(text)) is (language == "zh"), text
        for fact_ in case.subject[language]:
            assert fact_ in mail.subject, (fact_, mail.subject)
            assert fact_ in item.title or fact_ in item.body
        for fact_ in case.body[language]:
            assert fact_ in body, (fact_, body)
            assert fact_ in item.body


@pytest.mark.parametrize("name", list(CASES))
async def test_a_redelivered_event_adds_nothing(name: str, make_node) -> None:
    case = CASES[name]
    node = await make_node()
    member = await node.add_member()
    event = case.make(member.member_id)
    record = node.record(case.consumer, event, str(uuid.uuid4()))

    assert await node.consumers[case.consumer].process(record) is Outcome.handled
    assert await node.consumers[case.consumer].process(record) is Outcome.duplicate
    envelope = envelope_for(event, source="test", at=node.clock.now())
    added = []
    for _ in range(2):
        async with node.db.transaction() as session:
            added.append(await plan_event(session, node.ctx, event, envelope))
    assert added == [2, 0]
    assert len(await node.deliveries(member.member_id)) == 4  # two events, two channels each


@pytest.mark.parametrize("name", list(CASES))
async def test_a_member_of_another_node_is_not_told(name: str, make_node) -> None:
    case = CASES[name]
    node = await make_node()
    # Even a record of them here does not make a member whose home org n2 hosts ours to tell.
    miner = await node.add_member(home_org="mine-shaft")
    outcome = await node.feed(case.consumer, case.make(miner.member_id, home_org="mine-shaft"))
    assert outcome in (Outcome.handled, Outcome.filtered)
    assert await node.deliveries() == []


@pytest.mark.parametrize("by", ["member", "cadre"])
async def test_a_place_the_member_gave_up_themselves_tells_nobody(by: str, make_node) -> None:
    node = await make_node()
    member = await node.add_member()
    assert await node.feed(ENROLLMENT, cancelled_by(by)(member.member_id)) is Outcome.handled
    assert await node.deliveries() == []


async def test_a_team_nomination_tells_each_known_nominee_once_and_keeps_no_team_ids(
    make_node,
) -> None:
    node = await make_node()
    here = [await node.add_member(), await node.add_member(language="en")]
    unknown = str(uuid.uuid4())  # not a recipient here: told by their own node, if any
    ids = [m.member_id for m in here] + [unknown, here[0].member_id]
    event = decided(granted=True)(*ids, team="Crew 3")

    assert await node.feed(AWARDS, event) is Outcome.handled

    rows = await node.deliveries()
    assert sorted((d.member_id, d.channel) for d in rows) == sorted(
        (m.member_id, c) for m in here for c in ("email", "inapp")
    )
    for row in rows:
        others = [i for i in ids if i != row.member_id]
        assert all(other not in json.dumps(row.data) for other in others)
    await node.dispatcher.dispatch_once()
    [item] = await node.inbox(here[1].member_id)
    assert "(your team, Crew 3)" in item.body


async def test_news_older_than_the_notice_age_tells_nobody(make_node) -> None:
    node = await make_node(notify_max_age_hours=72)
    member = await node.add_member()
    record = node.record(ENROLLMENT, offered(member.member_id))
    node.clock.advance(73 * 3600)

    assert await node.consumers[ENROLLMENT].process(record) is Outcome.handled
    assert await node.deliveries() == []
