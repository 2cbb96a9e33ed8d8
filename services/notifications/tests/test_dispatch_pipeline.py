"""The dispatcher as a pipeline: N sends in flight continuously, nothing started past the lease,
reused SMTP connections (re-opened when dropped), results recorded in groups, a clean stop.

The SMTP server is the real sink of deploy/local/smtp.py, watched: which session (connection)
carried each message, and how many messages were in DATA at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import event

from deploy.local.smtp import SmtpSink
from notifications import dispatcher as dispatcher_module
from notifications.models import Delivery
from notifications.service.context import Context
from shared.tasks import cancel_and_wait


class WatchedSink(SmtpSink):
    """The sink, noting each message's session and the most messages in DATA at once; it can
    answer DATA slowly, and drop a connection at its next MAIL."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay
        self.sessions: list[Session] = []  # kept alive, so distinct objects are distinct ids
        self.in_flight = 0
        self.most_in_flight = 0
        self.drop_next_mail = False

    @property
    def connections(self) -> int:
        return len({id(session) for session in self.sessions})

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self.drop_next_mail:
            self.drop_next_mail = False
            assert isinstance(server.transport, asyncio.Transport)
            server.transport.abort()  # as a restarting server would: no answer, connection gone
            return "421 closing"  # never arrives
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            self.sessions.append(session)
            return await super().handle_DATA(server, session, envelope)
        finally:
            self.in_flight -= 1


@pytest.fixture
def watched() -> Iterator[Callable[..., WatchedSink]]:
    sinks: list[WatchedSink] = []

    def start(delay: float = 0.0) -> WatchedSink:
        sinks.append(WatchedSink(delay).start())
        return sinks[-1]

    yield start
    for sink in sinks:
        sink.stop()


async def members_told(node: Any, count: int, **fields: Any) -> list[str]:
    """`count` members with e-mail, each decided about: 2 deliveries (e-mail, in-app) each."""
    ids = []
    for n in range(count):
        member = await node.add_member(email=f"m{n}@example.org", **fields)
        await node.decide(member.member_id)
        ids.append(member.member_id)
    return ids


async def until(check: Callable[[], Any], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "gave up waiting"
        await asyncio.sleep(0.02)


async def statuses(node: Any, channel: str = "email") -> list[str]:
    return [d.status for d in await node.deliveries() if d.channel == channel]


async def test_the_dispatcher_keeps_n_sends_in_flight_and_claims_the_next_batch_meanwhile(
    make_node: Any, watched: Callable[..., WatchedSink], monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = watched(delay=0.05)
    node = await make_node(
        smtp_port=sink.port, dispatch_concurrency=3, smtp_connections=8, dispatch_batch_size=4
    )
    await members_told(node, 15)
    real_claim, in_flight_at_claims = dispatcher_module.claim_due, list[int]()

    async def watched_claim(session: Any, ctx: Context, limit: int) -> list[Delivery]:
        in_flight_at_claims.append(sink.in_flight)
        return await real_claim(session, ctx, limit)

    monkeypatch.setattr(dispatcher_module, "claim_due", watched_claim)
    worker = asyncio.create_task(node.dispatcher.run())
    try:
        await until(lambda: _all_sent(node))
    finally:
        await cancel_and_wait([worker])

    assert len(sink.messages) == 15
    assert sink.most_in_flight == 3  # reached, never more: dispatch_concurrency
    assert max(in_flight_at_claims) > 0  # the next batch was claimed while sends were in flight


async def _all_sent(node: Any) -> bool:
    return set(await statuses(node, "email") + await statuses(node, "inapp")) == {"sent"}


async def test_no_send_starts_after_the_claims_budget_and_the_rest_go_out_once_later(
    make_node: Any, watched: Callable[..., WatchedSink]
) -> None:
    sink = watched(delay=0.1)
    # Budget = max(lease - 2 x timeout, lease / 2) = 1 s: about ten of the sixteen e-mails.
    node = await make_node(
        smtp_port=sink.port,
        dispatch_concurrency=1,
        smtp_connections=1,
        dispatch_lease_seconds=2.0,
        smtp_timeout_seconds=0.5,
    )
    await members_told(node, 16)

    assert await node.dispatcher.dispatch_once() == 32
    emails = [d for d in await node.deliveries() if d.channel == "email"]
    sent = [d for d in emails if d.status == "sent"]
    assert 1 <= len(sent) < 16
    assert len(sink.messages) == len(sent)
    for delivery in emails:
        if delivery.status != "sent":  # not started: untouched, due when the lease ends
            assert (delivery.status, delivery.attempts) == ("pending", 0)
            assert await node.attempts(delivery.delivery_id) == []

    for _ in range(5):
        node.clock.advance(node.settings.dispatch_lease_seconds)
        await node.dispatcher.dispatch_once()
    assert await statuses(node) == ["sent"] * 16
    message_ids = sorted(str(m.message_id) for m in sink.messages)
    assert message_ids == sorted(f"<{d.delivery_id}@bigschool.n1>" for d in emails)


async def test_one_smtp_connection_carries_many_messages(
    make_node: Any, watched: Callable[..., WatchedSink]
) -> None:
    sink = watched()
    node = await make_node(smtp_port=sink.port, smtp_connections=2)
    await members_told(node, 12)
    await node.dispatcher.dispatch_once()
    await members_told(node, 3)
    await node.dispatcher.dispatch_once()

    assert len(sink.messages) == 15
    assert 1 <= sink.connections <= 2
    assert node.dispatcher.mailer.connections_opened == sink.connections


async def test_a_dropped_connection_is_reopened_and_the_message_sent_once(
    make_node: Any, watched: Callable[..., WatchedSink]
) -> None:
    sink = watched()
    node = await make_node(smtp_port=sink.port, smtp_connections=1)
    first = (await members_told(node, 1))[0]
    await node.dispatcher.dispatch_once()

    sink.drop_next_mail = True  # the pooled connection dies under the next message
    second = await node.add_member(email="second@example.org")
    await node.decide(second.member_id)
    await node.dispatcher.dispatch_once()

    assert [m.rcpt_tos for m in sink.messages] == [("m0@example.org",), ("second@example.org",)]
    assert sink.connections == 2 == node.dispatcher.mailer.connections_opened
    for member_id in (first, second.member_id):
        email = await node.delivery(member_id, "email")
        assert (email.status, email.attempts) == ("sent", 1)
        assert [a.outcome for a in await node.attempts(email.delivery_id)] == ["sent"]


async def test_a_connection_the_server_closed_while_idle_is_replaced_unnoticed(
    make_node: Any, watched: Callable[..., WatchedSink]
) -> None:
    sink = watched()
    node = await make_node(smtp_port=sink.port, smtp_connections=1, smtp_idle_seconds=0.01)
    await members_told(node, 1)
    await node.dispatcher.dispatch_once()
    await asyncio.sleep(0.05)  # idle: checked with NOOP before its next message
    await members_told(node, 1)
    await node.dispatcher.dispatch_once()
    sink.drop_next_mail = True
    await asyncio.sleep(0.05)
    await members_told(node, 1)
    await node.dispatcher.dispatch_once()

    assert len(sink.messages) == 3
    assert await statuses(node) == ["sent"] * 3
    assert sink.connections == 2  # one reused after NOOP; one new after the drop


async def test_a_batch_of_results_is_recorded_with_its_attempts_in_one_transaction(
    node: Any, smtp_sink: SmtpSink
) -> None:
    await members_told(node, 5)
    no_email = await node.add_member(email=None)
    await node.decide(no_email.member_id)
    unknown = "00000000-0000-4000-8000-000000000000"
    await node.decide(unknown)
    commits, recipient_queries = list[int](), list[str]()
    node.db.on_commit(lambda: commits.append(1))

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM recipients" in statement:
            recipient_queries.append(statement)

    event.listen(node.db.engine.sync_engine, "before_cursor_execute", count)
    try:
        assert await node.dispatcher.dispatch_once() == 14
    finally:
        event.remove(node.db.engine.sync_engine, "before_cursor_execute", count)

    assert len(commits) == 2  # the claim (with its recipients), then every result at once
    assert len(recipient_queries) == 1
    deliveries = await node.deliveries()
    outcomes = {}
    for d in deliveries:
        log = await node.attempts(d.delivery_id)
        assert [a.attempt for a in log] == [1] == [d.attempts]
        outcomes[(d.member_id, d.channel)] = (d.status, log[0].outcome, log[0].error_type)
    assert outcomes[(unknown, "email")] == ("pending", "deferred", "RecipientUnknown")
    assert outcomes[(unknown, "inapp")] == ("pending", "deferred", "RecipientUnknown")
    assert outcomes[(no_email.member_id, "email")] == ("skipped", "skipped", None)
    told = [k for k in outcomes if k[0] not in (unknown, no_email.member_id)]
    assert {outcomes[k] for k in told} == {("sent", "sent", None)}
    assert len(smtp_sink.messages) == 5
    assert len(await node.inbox(no_email.member_id)) == 1


async def test_stopping_the_dispatcher_records_what_was_sent_and_closes_its_connections(
    make_node: Any, watched: Callable[..., WatchedSink]
) -> None:
    sink = watched(delay=0.05)
    node = await make_node(
        smtp_port=sink.port,
        dispatch_concurrency=2,
        smtp_connections=2,
        dispatch_record_linger_seconds=30,  # nothing is recorded before the stop
    )
    await members_told(node, 20)
    worker = asyncio.create_task(node.dispatcher.run())

    async def some_arrived() -> bool:
        return len(sink.messages) >= 4

    await until(some_arrived)
    await cancel_and_wait([worker])

    assert worker.cancelled()
    assert node.dispatcher.mailer.open_connections == 0
    arrived = {m.message_id for m in sink.messages}
    emails = [d for d in await node.deliveries() if d.channel == "email"]
    sent = {f"<{d.delivery_id}@bigschool.n1>" for d in emails if d.status == "sent"}
    assert sent <= arrived
    assert len(sent) >= len(arrived) - 2  # at most the two in flight were cut off unrecorded
    assert {d.status for d in emails} <= {"sent", "pending"}
