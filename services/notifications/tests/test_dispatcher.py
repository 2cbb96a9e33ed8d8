from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from deploy.local.ports import free_port
from deploy.local.smtp import SmtpSink
from notifications import dispatcher as dispatcher_module
from notifications.models import Delivery
from notifications.service.context import Context
from shared.contracts.events import EnrollmentWaitlisted
from shared.messaging.consumer import Outcome
from shared.tasks import cancel_and_wait
from shared.telemetry.testing import parent_span_id, span_collector, span_id_of, trace_id_of
from shared.tracing import reset_traceparent, set_traceparent


async def test_each_email_goes_out_once_with_its_message_id_in_the_recipients_language(
    node, smtp_sink: SmtpSink
) -> None:
    zh = await node.add_member(name="王芳", email="wang@example.org", language="zh")
    en = await node.add_member(name="Li Lei", email="li@example.org", language="en")
    await node.decide(zh.member_id)
    await node.decide(en.member_id, EnrollmentWaitlisted)

    assert await node.dispatcher.dispatch_once() == 4
    assert await node.dispatcher.dispatch_once() == 0

    mails = {m.rcpt_tos[0]: m for m in smtp_sink.messages}
    assert len(smtp_sink.messages) == 2
    for member, address in ((zh, "wang@example.org"), (en, "li@example.org")):
        email = await node.delivery(member.member_id, "email")
        assert email.status == "sent" and email.sent_at == node.clock.now()
        assert mails[address].message_id == f"<{email.delivery_id}@bigschool.n1>"
        assert mails[address].message["To"] == address
    chinese = mails["wang@example.org"]
    assert chinese.subject == "报名成功：Safe crane operation"  # noqa: RUF001 (Chinese colon)
    assert "王芳，您好" in chinese.message.get_content()  # noqa: RUF001 (Chinese comma)
    assert mails["li@example.org"].subject == "On the waiting list: Safe crane operation"
    assert mails["li@example.org"].message.get_content_charset() == "utf-8"


async def test_an_inapp_delivery_creates_its_inbox_item_exactly_once(node) -> None:
    member = await node.add_member(language="en")
    await node.decide(member.member_id)

    await node.dispatcher.dispatch_once()
    node.clock.advance(3600)
    await node.dispatcher.dispatch_once()

    inapp = await node.delivery(member.member_id, "inapp")
    items = await node.inbox(member.member_id)
    assert [(i.item_id, i.title) for i in items] == [
        (inapp.delivery_id, "Enrollment confirmed: Safe crane operation")
    ]
    assert inapp.status == "sent" and inapp.attempts == 1
    assert [a.outcome for a in await node.attempts(inapp.delivery_id)] == ["sent"]


async def test_a_delivery_waits_for_an_unknown_recipient_and_goes_out_once_they_arrive(
    node, smtp_sink: SmtpSink
) -> None:
    member_id = str(uuid.uuid4())
    await node.decide(member_id)
    await node.dispatcher.dispatch_once()

    email = await node.delivery(member_id, "email")
    assert (email.status, email.attempts, email.last_error) == ("pending", 1, "RecipientUnknown")
    # The first backoff: between half a second and a second (jittered).
    wait = email.next_attempt_at - node.clock.now()
    assert timedelta(seconds=0.5) <= wait <= timedelta(seconds=1)
    assert smtp_sink.messages == [] and await node.inbox(member_id) == []

    await node.add_member(member_id=member_id)
    assert await node.dispatcher.dispatch_once() == 0  # not due before its backoff ends
    node.clock.advance(1)
    assert await node.dispatcher.dispatch_once() == 2

    assert [m.rcpt_tos for m in smtp_sink.messages] == [("wang.fang@example.org",)]
    assert len(await node.inbox(member_id)) == 1
    assert (await node.delivery(member_id, "email")).status == "sent"


async def test_smtp_down_is_retried_with_backoff_and_logged_without_personal_data(
    make_node,
) -> None:
    port = free_port()
    node = await make_node(smtp_port=port)
    member = await node.add_member(name="Zhao Min", email="zhao.min@example.org")
    await node.decide(member.member_id)

    await node.dispatcher.dispatch_once()
    node.clock.advance(1)
    await node.dispatcher.dispatch_once()

    email = await node.delivery(member.member_id, "email")
    assert (email.status, email.attempts) == ("pending", 2)
    wait = email.next_attempt_at - node.clock.now()
    assert timedelta(seconds=1) <= wait <= timedelta(seconds=2)  # the second, jittered
    log = await node.attempts(email.delivery_id)
    assert [(a.attempt, a.outcome, a.error_type) for a in log] == [
        (1, "deferred", "SMTPConnectError"),
        (2, "deferred", "SMTPConnectError"),
    ]
    for text in [email.last_error, *(a.error_type for a in log)]:
        assert "zhao" not in str(text).lower() and "@" not in str(text)
    assert (await node.delivery(member.member_id, "inapp")).status == "sent"

    with SmtpSink(port=port) as sink:
        node.clock.advance(2)
        await node.dispatcher.dispatch_once()
        assert [m.rcpt_tos for m in sink.messages] == [("zhao.min@example.org",)]
    assert (await node.delivery(member.member_id, "email")).status == "sent"


async def test_a_delivery_that_keeps_failing_is_failed_after_max_attempts(make_node) -> None:
    node = await make_node(smtp_port=free_port(), max_attempts=3)
    member = await node.add_member()
    await node.decide(member.member_id)

    for _ in range(5):
        await node.dispatcher.dispatch_once()
        node.clock.advance(600)

    email = await node.delivery(member.member_id, "email")
    assert (email.status, email.attempts, email.last_error) == ("failed", 3, "SMTPConnectError")
    outcomes = [a.outcome for a in await node.attempts(email.delivery_id)]
    assert outcomes == ["deferred", "deferred", "failed"]


async def test_a_recipient_without_email_is_skipped_on_email_but_still_gets_the_inapp_item(
    node, smtp_sink: SmtpSink
) -> None:
    member = await node.add_member(email=None)
    await node.decide(member.member_id)
    await node.dispatcher.dispatch_once()

    email = await node.delivery(member.member_id, "email")
    assert (email.status, email.sent_at) == ("skipped", None)
    assert [a.outcome for a in await node.attempts(email.delivery_id)] == ["skipped"]
    assert smtp_sink.messages == []
    assert len(await node.inbox(member.member_id)) == 1


async def test_a_claimed_delivery_is_not_claimed_again_until_its_lease_ends(
    node, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = await node.add_member()
    await node.decide(member.member_id)

    async def crash(*_args: object) -> None:
        raise RuntimeError("process died mid-delivery")

    monkeypatch.setattr(node.dispatcher, "_deliver", crash)
    assert await node.dispatcher.dispatch_once() == 2
    node.clock.advance(node.settings.dispatch_lease_seconds - 1)
    assert await node.dispatcher.dispatch_once() == 0
    node.clock.advance(1)
    assert await node.dispatcher.dispatch_once() == 2


async def test_a_crash_between_sending_and_marking_resends_with_the_same_message_id(
    node, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = await node.add_member()
    await node.decide(member.member_id)
    real_record = dispatcher_module.record_results

    async def database_gone(*_args: object) -> None:
        raise OperationalError("UPDATE deliveries", {}, Exception("database is locked"))

    monkeypatch.setattr(dispatcher_module, "record_results", database_gone)
    await node.dispatcher.dispatch_once()
    monkeypatch.setattr(dispatcher_module, "record_results", real_record)
    assert (await node.delivery(member.member_id, "email")).status == "pending"

    node.clock.advance(node.settings.dispatch_lease_seconds)
    await node.dispatcher.dispatch_once()

    email = await node.delivery(member.member_id, "email")
    assert (email.status, email.attempts) == ("sent", 1)
    assert [m.message_id for m in smtp_sink.messages] == [f"<{email.delivery_id}@bigschool.n1>"] * 2


async def test_the_dispatcher_wakes_as_soon_as_a_consumer_commits_new_deliveries(
    make_node, smtp_sink: SmtpSink
) -> None:
    # Polling alone would take a minute here.
    node = await make_node(smtp_port=smtp_sink.port, dispatch_poll_seconds=60)
    member = await node.add_member()
    worker = asyncio.create_task(node.dispatcher.run())
    try:
        await asyncio.sleep(0.1)  # the worker is idle, waiting
        assert await node.feed("enrollment_events", node.decision(member.member_id)) is (
            Outcome.handled
        )
        for _ in range(50):
            if await node.inbox(member.member_id):
                break
            await asyncio.sleep(0.05)
        assert len(await node.inbox(member.member_id)) == 1
    finally:
        await cancel_and_wait([worker])


async def test_the_dispatcher_survives_a_database_fault_and_carries_on(
    node, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = await node.add_member()
    await node.decide(member.member_id)
    real_claim, faults = dispatcher_module.claim_due, list[str]()

    async def flaky_claim(session: AsyncSession, ctx: Context, limit: int) -> list[Delivery]:
        if not faults:
            faults.append("down")
            raise OperationalError("SELECT", {}, Exception("connection refused"))
        return await real_claim(session, ctx, limit)

    monkeypatch.setattr(dispatcher_module, "claim_due", flaky_claim)
    worker = asyncio.create_task(node.dispatcher.run())
    try:
        for _ in range(50):
            if await node.inbox(member.member_id):
                break
            await asyncio.sleep(0.05)
        assert faults == ["down"]
        assert len(await node.inbox(member.member_id)) == 1
        assert not worker.done()
    finally:
        await cancel_and_wait([worker])


async def test_a_delivery_keeps_the_trace_of_the_event_it_tells_of_until_it_is_sent(
    node, smtp_sink: SmtpSink
) -> None:
    spans = span_collector()
    spans.clear()
    member = await node.add_member(email="traced@example.org", language="en")
    token = set_traceparent(f"00-{'7e' * 16}-{'1d' * 8}-01")  # the request that decided
    try:
        await node.decide(member.member_id)
    finally:
        reset_traceparent(token)

    email = await node.delivery(member.member_id, "email")
    assert email.traceparent is not None and email.traceparent.split("-")[1] == "7e" * 16
    # Sent later, from the row alone (as after a restart): the span joins the event's trace.
    assert await node.dispatcher.dispatch_once() >= 1
    finished = list(spans.get_finished_spans())
    process = next(s for s in finished if s.name.startswith("process bigschool.enrollment."))
    deliver = next(s for s in finished if s.name == "deliver email")
    assert trace_id_of(deliver) == "7e" * 16
    assert parent_span_id(deliver) == span_id_of(process) == email.traceparent.split("-")[2]
    assert len(smtp_sink.messages) == 1
