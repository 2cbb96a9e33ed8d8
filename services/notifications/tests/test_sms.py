"""SMS through the HTTP provider adapter (a real local HTTP server records what it is sent) and
the fallback to the member's next channel (e-mail, to the local SMTP sink)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from deploy.local.http_sink import HttpSink
from deploy.local.ports import free_port
from deploy.local.smtp import SmtpSink
from notifications import repository
from notifications.channels.sms import MAX_ASCII_CHARS, MAX_OTHER_CHARS, sms_text
from notifications.domain.deliveries import Channel, Status, delivery_id, new_delivery
from notifications.models import Delivery
from notifications.templates import SIGNATURE, Rendered
from shared.contracts.events import EnrollmentConfirmed, EnrollmentOffered

PHONE = "+8613800138000"
API_KEY = "sms-key-123"


@pytest.fixture
def provider() -> Iterator[HttpSink]:
    with HttpSink() as sink:
        yield sink


@pytest.fixture
async def node(make_node, smtp_sink: SmtpSink, provider: HttpSink):
    """A node with the local SMS provider and SMTP sink; max_attempts is 4 (conftest)."""
    node = await make_node(
        smtp_port=smtp_sink.port,
        sms_base_url=provider.url,
        sms_api_key=API_KEY,
        sms_sender="BigSchool",
    )
    yield node
    await node.dispatcher.senders["sms"].close()


async def plan_sms(node, member_id: str, ce_id: str | None = None) -> str:
    """An `sms` delivery of an enrollment confirmation, inserted as planning writes one (with
    the event's data); its delivery id."""
    ce_id = ce_id or str(uuid.uuid4())
    event = node.decision(member_id)
    now = node.clock.now()
    row = new_delivery(
        ce_id=ce_id,
        event_type=EnrollmentConfirmed.ce_type,
        member_id=member_id,
        channel=Channel.sms,
        data=event.model_dump(mode="json"),
        home_org="steel-rolling",
        now=now,
    )
    async with node.db.transaction() as session:
        assert await repository.insert_ignoring_duplicates(session, Delivery, [row]) == 1
    return str(row["delivery_id"])


async def run_until_settled(node, delivery: str, rounds: int = 10) -> Delivery:
    """Dispatch, moving the clock past each backoff, until `delivery` is no longer pending."""
    for _ in range(rounds):
        await node.dispatcher.dispatch_once()
        row = await node_delivery(node, delivery)
        if row.status != Status.pending:
            return row
        node.clock.advance((row.next_attempt_at - node.clock.now()).total_seconds())
    raise AssertionError(f"delivery still pending after {rounds} rounds")


async def node_delivery(node, delivery: str) -> Delivery:
    async with node.db.sessions() as session:
        row = await session.get(Delivery, delivery)
    assert row is not None
    return row


async def test_an_sms_is_posted_with_the_delivery_id_as_idempotency_key_and_the_message_text(
    node, provider: HttpSink, smtp_sink: SmtpSink
) -> None:
    member = await node.add_member(name="Li Lei", language="en", phone=PHONE, email=None)
    sms = await plan_sms(node, member.member_id)

    await node.dispatcher.dispatch_once()

    [request] = provider.requests
    assert (request.method, request.path) == ("POST", "/messages")
    assert request.headers["idempotency-key"] == sms
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    body = request.json()
    assert {k: body[k] for k in ("to", "from", "reference")} == {
        "to": PHONE,
        "from": "BigSchool",
        "reference": sms,
    }
    assert body["text"].startswith(
        "Enrollment confirmed: Safe crane operation\nDear Li Lei, your seat in"
    )
    assert "{" not in body["text"] and SIGNATURE["en"].strip() not in body["text"]
    row = await node_delivery(node, sms)
    assert (row.status, row.attempts) == ("sent", 1)
    assert smtp_sink.messages == []  # sent: nothing falls back


async def test_every_retry_of_an_sms_carries_the_same_idempotency_key(
    node, provider: HttpSink
) -> None:
    member = await node.add_member(phone=PHONE)
    sms = await plan_sms(node, member.member_id)
    provider.fail_next(1, status=503)
    provider.fail_next(1, status=429)

    row = await run_until_settled(node, sms)

    assert row.status == "sent"
    assert [r.status for r in provider.requests] == [503, 429, 200]
    assert {r.headers["idempotency-key"] for r in provider.requests} == {sms}
    assert len({r.body for r in provider.requests}) == 1  # the very same request each time
    attempts = await node.attempts(sms)
    assert [(a.outcome, a.error_type) for a in attempts] == [
        ("deferred", "SmsHttp503"),
        ("deferred", "SmsHttp429"),
        ("sent", None),
    ]


async def test_a_provider_answering_500_is_retried_then_the_sms_fails_and_one_email_goes_out(
    node, provider: HttpSink, smtp_sink: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    member = await node.add_member(phone=PHONE, email="wang@example.org", language="en")
    sms = await plan_sms(node, member.member_id)
    provider.fail_next(100, status=500)

    row = await run_until_settled(node, sms)

    assert (row.status, row.attempts, row.last_error) == ("failed", 4, "SmsHttp500")
    assert len(provider.requests) == 4
    email = await node.delivery(member.member_id, "email")
    assert email.fallback_of == sms and email.ce_id == row.ce_id
    log = await node.attempts(sms)
    assert [a.outcome for a in log] == ["deferred", "deferred", "deferred", "failed"]
    assert log[-1].fallback_to == email.delivery_id
    assert all(a.fallback_to is None for a in log[:-1])

    await node.dispatcher.dispatch_once()
    node.clock.advance(3600)
    await node.dispatcher.dispatch_once()

    [mail] = smtp_sink.messages  # exactly one
    assert mail.rcpt_tos == ("wang@example.org",)
    assert mail.subject == "Enrollment confirmed: Safe crane operation"
    assert (await node_delivery(node, email.delivery_id)).status == "sent"
    assert PHONE not in caplog.text and "Safe crane" not in caplog.text  # types only


async def test_a_refused_sms_fails_at_once_and_falls_back_to_email(
    node, provider: HttpSink, smtp_sink: SmtpSink
) -> None:
    member = await node.add_member(phone="+86 not a number")
    sms = await plan_sms(node, member.member_id)
    provider.fail_next(1, status=400)

    await node.dispatcher.dispatch_once()
    row = await node_delivery(node, sms)
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "SmsHttp400")
    assert [a.outcome for a in await node.attempts(sms)] == ["failed"]

    await node.dispatcher.dispatch_once()
    assert [m.rcpt_tos for m in smtp_sink.messages] == [("wang.fang@example.org",)]
    assert len(provider.requests) == 1


async def test_a_member_without_a_phone_is_skipped_and_told_by_email(
    node, provider: HttpSink, smtp_sink: SmtpSink
) -> None:
    member = await node.add_member(phone=None)
    sms = await plan_sms(node, member.member_id)

    await node.dispatcher.dispatch_once()
    await node.dispatcher.dispatch_once()

    row = await node_delivery(node, sms)
    assert (row.status, row.last_error) == ("skipped", "NoPhone")
    assert provider.requests == []
    email = await node.delivery(member.member_id, "email")
    assert (email.status, email.fallback_of) == ("sent", sms)
    assert len(smtp_sink.messages) == 1


async def test_a_node_without_an_sms_provider_tells_the_member_by_email(
    make_node, smtp_sink: SmtpSink
) -> None:
    node = await make_node(smtp_port=smtp_sink.port)  # no sms_base_url
    member = await node.add_member(phone=PHONE)
    sms = await plan_sms(node, member.member_id)

    await node.dispatcher.dispatch_once()
    await node.dispatcher.dispatch_once()

    row = await node_delivery(node, sms)
    assert (row.status, row.last_error) == ("skipped", "SmsNotConfigured")
    assert [m.rcpt_tos for m in smtp_sink.messages] == [("wang.fang@example.org",)]


async def test_a_fallback_to_an_email_planned_with_the_event_sends_still_one_email(
    node, provider: HttpSink, smtp_sink: SmtpSink
) -> None:
    member = await node.add_member(phone=PHONE)
    ce_id = await node.decide(member.member_id)  # plans e-mail and in-app
    sms = await plan_sms(node, member.member_id, ce_id=ce_id)
    provider.fail_next(1, status=404)

    await node.dispatcher.dispatch_once()
    node.clock.advance(60)
    await node.dispatcher.dispatch_once()

    emails = [d for d in await node.deliveries(member.member_id) if d.channel == "email"]
    assert len(emails) == 1 and emails[0].fallback_of is None  # planned with the event
    assert (await node.attempts(sms))[-1].fallback_to == emails[0].delivery_id
    assert len(smtp_sink.messages) == 1


async def test_a_member_who_chose_sms_gets_it_and_no_email_they_did_not_allow_on_failure(
    node, provider: HttpSink, smtp_sink: SmtpSink
) -> None:
    member = await node.add_member(phone=PHONE, language="en")
    transport = httpx.ASGITransport(app=node.app)
    token = node.token(org="steel-rolling", roles=["member"], member_id=member.member_id)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as api:
        chosen = await api.put(
            "/preferences/me",
            json={"channels": {"enrollment": ["inapp", "sms"]}},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert chosen.status_code == 200
    ce_id = await node.decide(member.member_id)  # planned by the member's preferences
    provider.fail_next(1, status=400)

    await node.dispatcher.dispatch_once()
    await node.dispatcher.dispatch_once()

    sms = delivery_id(ce_id, member.member_id, Channel.sms)
    assert [r.headers["idempotency-key"] for r in provider.requests] == [sms]
    assert {d.channel: d.status for d in await node.deliveries(member.member_id)} == {
        "inapp": "sent",
        "sms": "failed",  # no e-mail: the member does not allow it for enrollments
    }
    assert (await node.attempts(sms))[-1].fallback_to is None
    assert smtp_sink.messages == []


async def choose(node, member_id: str, channels: dict[str, list[str]]) -> None:
    transport = httpx.ASGITransport(app=node.app)
    token = node.token(org="steel-rolling", roles=["member"], member_id=member_id)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as api:
        chosen = await api.put(
            "/preferences/me",
            json={"channels": channels},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert chosen.status_code == 200, chosen.text


async def test_sms_first_then_email_only_when_the_sms_gives_up(
    node, provider: HttpSink, smtp_sink: SmtpSink
) -> None:
    member = await node.add_member(phone=PHONE, email="li@example.org", language="en")
    await choose(node, member.member_id, {"enrollment": ["inapp", "sms", "email"]})
    ce_id = await node.decide(member.member_id)

    # Planned: the in-app item and the first message channel; e-mail is the fallback.
    assert {d.channel for d in await node.deliveries(member.member_id)} == {"inapp", "sms"}
    provider.fail_next(100, status=500)
    sms = delivery_id(ce_id, member.member_id, Channel.sms)
    row = await run_until_settled(node, sms)
    assert row.status == "failed"
    await node.dispatcher.dispatch_once()

    [mail] = smtp_sink.messages
    assert mail.rcpt_tos == ("li@example.org",)
    email = await node.delivery(member.member_id, "email")
    assert (email.status, email.fallback_of) == ("sent", sms)


async def test_a_critical_offer_goes_by_sms_and_email_at_once(
    node, provider: HttpSink, smtp_sink: SmtpSink
) -> None:
    member = await node.add_member(phone=PHONE, email="li@example.org", language="en")
    await choose(node, member.member_id, {"offers": ["inapp", "sms", "email"]})
    offer = EnrollmentOffered(
        enrollment_id=str(uuid.uuid4()),
        programme_id="p-7",
        member_id=member.member_id,
        owner_org="steel",
        home_org="steel-rolling",
        sequence=4,
        offered_at=node.clock.now(),
        offer_expires_at=node.clock.now() + timedelta(hours=48),
        programme_title="Safe crane operation",
    )
    await node.feed("enrollment_events", offer)

    await node.dispatcher.dispatch_once()

    statuses = {d.channel: d.status for d in await node.deliveries(member.member_id)}
    assert statuses == {"inapp": "sent", "sms": "sent", "email": "sent"}
    assert len(provider.requests) == 1 and len(smtp_sink.messages) == 1


async def test_an_unreachable_provider_is_a_transient_failure(
    make_node, smtp_sink: SmtpSink
) -> None:
    node = await make_node(
        smtp_port=smtp_sink.port,
        sms_base_url=f"http://127.0.0.1:{free_port()}",  # nothing listens there
        sms_timeout_seconds=2,
    )
    member = await node.add_member(phone=PHONE)
    sms = await plan_sms(node, member.member_id)

    await node.dispatcher.dispatch_once()
    await node.dispatcher.senders["sms"].close()

    row = await node_delivery(node, sms)
    assert (row.status, row.last_error) == ("pending", "ConnectError")
    assert smtp_sink.messages == []  # not given up: no fallback yet


def test_a_long_sms_is_cut_to_two_segments_at_a_word() -> None:
    words = " ".join(["word"] * 200)
    ascii_text = sms_text(Rendered("s", "Title", words + SIGNATURE["en"]), "en")
    assert len(ascii_text) <= MAX_ASCII_CHARS and ascii_text.endswith("word...")
    chinese = sms_text(Rendered("s", "报名成功", "您好" * 200 + SIGNATURE["zh"]), "zh")
    assert len(chinese) == MAX_OTHER_CHARS and chinese.endswith("…")
    short = sms_text(Rendered("s", "Title", "Dear Li,\n\n“Crane” — ok." + SIGNATURE["en"]), "en")
    assert short == 'Title\nDear Li, "Crane" - ok.'  # ASCII quotes: a GSM 7-bit message
    assert (
        sms_text(Rendered("s", "报名成功", "“起重”" + SIGNATURE["zh"]), "zh") == "报名成功\n“起重”"
    )
