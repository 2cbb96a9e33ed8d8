# Chinese text takes full-width punctuation: correct here, not a look-alike typo.
"""The local store of programme and scheme titles: a notice that names a programme or a
scheme only by id names it by its title — the newest one — once this node has learnt it;
and nominees are told they were nominated, for the scheme named by its title."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from deploy.local.smtp import SmtpSink
from notifications.service.catalogue import titles
from shared.contracts.base import Event
from shared.contracts.events import (
    EnrollmentOfferExpired,
    NominationFiled,
    ProgrammeChanged,
    ProgrammePublished,
    QualityArea,
    SchemeKind,
    SchemePublished,
)
from shared.contracts.events.nominations import NominationState
from shared.messaging.consumer import Outcome

AT = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)
PLACEHOLDER = re.compile(r"\{[A-Za-z_]+\}")
PROGRAMME_ID = "prog-crane-7"
SCHEME_ID = "model-worker"


def programme(title: str, model: type[ProgrammePublished] = ProgrammePublished) -> Event:
    return model(
        programme_id=PROGRAMME_ID,
        owner_org="steel",
        owner_node="n1",
        title=title,
        kind="training",
        quality_area=QualityArea.safety_health,
        audience=["steel"],
        capacity=30,
        hours=12,
        starts_at=AT + timedelta(days=5),
        ends_at=AT + timedelta(days=6),
    )


def scheme(title: str, version: int) -> SchemePublished:
    return SchemePublished(
        scheme_id=SCHEME_ID,
        owner_org="fed",
        kind=SchemeKind.model_worker,
        title=title,
        veto_departments=["audit"],
        version=version,
        published_at=AT,
    )


def expired(member_id: str) -> Event:
    return EnrollmentOfferExpired(
        enrollment_id=str(uuid.uuid4()),
        programme_id=PROGRAMME_ID,
        member_id=member_id,
        owner_org="steel",
        home_org="steel-rolling",
        expired_at=AT,
    )


def filed(*member_ids: str) -> Event:
    return NominationFiled(
        state=NominationState(
            nomination_id="nom-42",
            scheme_id=SCHEME_ID,
            round_id="2025",
            owner_org="fed",
            home_org="steel-rolling",
            nominee="member",
            member_ids=list(member_ids),
            stages=["steel"],
            status="filed",
        ),
        step=1,
        actor="cadre-steel-rolling",
        actor_org="steel-rolling",
        at=AT,
    )


async def test_a_notice_naming_a_programme_by_id_names_its_newest_title(
    node: Any, smtp_sink: SmtpSink
) -> None:
    member = await node.add_member(language="en", email="li@example.org")
    await node.feed("enrollment_events", expired(member.member_id))  # not known yet: its id
    await node.feed("catalogue", programme("Crane basics"))
    await node.feed("enrollment_events", expired(member.member_id))
    await node.feed("catalogue", programme("Safe crane operation", ProgrammeChanged))
    await node.feed("enrollment_events", expired(member.member_id))

    assert await node.dispatcher.dispatch_once() == 6
    assert sorted(m.subject for m in smtp_sink.messages) == [
        "Seat offer expired: Crane basics",
        "Seat offer expired: Safe crane operation",
        f"Seat offer expired: {PROGRAMME_ID}",
    ]


async def test_nominees_are_told_they_were_nominated_naming_the_scheme_once_each(
    node: Any, smtp_sink: SmtpSink
) -> None:
    await node.feed("catalogue", scheme("Model Worker 2025", version=1))
    zh = await node.add_member(name="王芳", email="wang@example.org", language="zh")
    en = await node.add_member(name="Li Lei", email="li@example.org", language="en")
    event, event_id = filed(zh.member_id, en.member_id), str(uuid.uuid4())
    outcomes = [await node.feed("honours", event, event_id) for _ in range(3)]
    assert outcomes == [Outcome.handled, Outcome.duplicate, Outcome.duplicate]

    assert await node.dispatcher.dispatch_once() == 4
    mails = {m.rcpt_tos[0]: m for m in smtp_sink.messages}
    assert mails["wang@example.org"].subject == "您已被推荐参评“Model Worker 2025”"
    assert mails["li@example.org"].subject == "You have been nominated for “Model Worker 2025”"
    for mail in mails.values():
        body = mail.message.get_content()
        assert not PLACEHOLDER.search(body), body
        assert "Steel-Rolling" in body  # the nominating org, by name
    [item] = await node.inbox(zh.member_id)
    assert "Model Worker 2025" in item.title


async def test_an_older_scheme_version_does_not_replace_a_newer_one(node: Any) -> None:
    await node.feed("catalogue", scheme("Model Worker 2025", version=2))
    await node.feed("catalogue", scheme("Model Worker (draft)", version=1))
    async with node.db.sessions() as session:
        found = await titles(session, {"state": {"scheme_id": SCHEME_ID}})
    assert found == {"scheme_title": "Model Worker 2025"}


async def test_a_title_the_event_carries_is_kept(node: Any) -> None:
    await node.feed("catalogue", programme("Crane basics"))
    async with node.db.sessions() as session:
        data = {"programme_id": PROGRAMME_ID, "programme_title": "As decided"}
        assert await titles(session, data) == {}
        assert await titles(session, {"programme_id": "unknown"}) == {}
