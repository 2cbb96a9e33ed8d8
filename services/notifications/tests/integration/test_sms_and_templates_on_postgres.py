"""SMS fallback and org template overrides on PostgreSQL: the migration, the fallback's INSERT
ignoring duplicates in the recording transaction, and the override lookup over the org
chain. `fresh_pg_url` comes from the repository's root conftest (tests/fixtures.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deploy.local.http_sink import HttpSink
from deploy.local.smtp import SmtpSink
from notifications import repository
from notifications.domain.deliveries import Channel, delivery_id, new_delivery
from shared.contracts.events import EnrollmentConfirmed

pytestmark = pytest.mark.integration


@pytest.fixture
def provider() -> Iterator[HttpSink]:
    with HttpSink() as sink:
        yield sink


async def test_a_refused_sms_falls_back_to_one_email_worded_by_the_orgs_override(
    make_node, fresh_pg_url, smtp_sink: SmtpSink, provider: HttpSink
) -> None:
    node = await make_node(
        database_url=fresh_pg_url, smtp_port=smtp_sink.port, sms_base_url=provider.url
    )
    async with node.db.transaction() as session:
        await repository.save_override(
            session,
            {
                "org_id": "steel",
                "template_key": EnrollmentConfirmed.ce_type,
                "language": "en",
                "subject": "Steel: {programme}",
                "title": "Steel: {programme}",
                "body": "Hello {name}.",
                "updated_at": node.clock.now(),
                "updated_by": "test",
            },
        )
    member = await node.add_member(phone="+8613800138000", language="en")
    ce_id = await node.decide(member.member_id)  # e-mail and in-app
    sms = delivery_id(ce_id, member.member_id, Channel.sms)
    async with node.db.transaction() as session:
        email = await repository.get_delivery(
            session, delivery_id(ce_id, member.member_id, Channel.email)
        )
        assert email is not None
        await session.delete(email)  # only SMS and in-app planned: the e-mail is the fallback
        await repository.insert_ignoring_duplicates(
            session,
            type(email),
            [
                new_delivery(
                    ce_id=email.ce_id,
                    event_type=email.event_type,
                    member_id=email.member_id,
                    channel=Channel.sms,
                    data=email.data,
                    home_org="steel-rolling",
                    now=node.clock.now(),
                )
            ],
        )
    provider.fail_next(1, status=422)

    await node.dispatcher.dispatch_once()
    await node.dispatcher.dispatch_once()
    await node.dispatcher.senders["sms"].close()

    by_channel = {d.channel: d for d in await node.deliveries(member.member_id)}
    assert {c: d.status for c, d in by_channel.items()} == {
        "email": "sent",
        "inapp": "sent",
        "sms": "failed",
    }
    assert by_channel["email"].fallback_of == sms
    assert [m.subject for m in smtp_sink.messages] == ["Steel: Safe crane operation"]
    [item] = await node.inbox(member.member_id)
    assert item.title == "Steel: Safe crane operation"  # steel-rolling inherits steel's wording
