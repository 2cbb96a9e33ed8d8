"""Thin Kafka handlers: the consumer machinery validated and de-duplicated the event; each
handler calls one use case in the transaction it is given."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.service.context import Context
from notifications.service.planning import plan_event
from notifications.service.recipients import forget_recipient, record_recipient
from notifications.service.rules import AWARDS, ENROLLMENT, rules_of
from shared.contracts import topics
from shared.contracts.base import Event
from shared.contracts.envelope import Envelope
from shared.contracts.events import MemberLeft, MemberRegistered
from shared.messaging.consumer import ConsumerSpec, Handler
from shared.orgs.consumer import org_tree_consumer


def consumer_specs(ctx: Context) -> list[ConsumerSpec]:
    settings = ctx.settings

    async def on_member(s: AsyncSession, e: MemberRegistered, _: Envelope) -> None:
        await record_recipient(s, ctx, e)

    async def on_left(s: AsyncSession, e: MemberLeft, _: Envelope) -> None:
        await forget_recipient(s, e)

    async def on_member_event(s: AsyncSession, e: Event, env: Envelope) -> None:
        await plan_event(s, ctx, e, env)

    def member_routes(consumer: str) -> dict[type[Event], Handler]:
        """Every event type a rule (service/rules.py) puts on this consumer's routes."""
        return {rule.event: on_member_event for rule in rules_of(consumer)}

    return [
        org_tree_consumer(settings, ctx.orgs),
        ConsumerSpec(
            name="recipients",
            topics=[topics.members(settings.node_id)],
            group_id=settings.group_id("recipients"),
            routes={MemberRegistered: on_member, MemberLeft: on_left},
            description="Keeps the contact data of this node's members (node-local topic), "
            "and forgets all that names a member who left or moved away.",
        ),
        ConsumerSpec(
            name="enrollment_events",
            topics=[topics.ENROLLMENT],
            group_id=settings.group_id("enrollment_events"),
            routes=member_routes(ENROLLMENT),
            relevant=ctx.orgs.relevant,
            description="Plans a notice to the member for each enrollment decision and each "
            "later step they are told of (a seat offered, its offer expired, cancelled by the "
            "owner, completed, the certificate issued).",
        ),
        ConsumerSpec(
            name="honours",
            topics=[topics.AWARDS],
            group_id=settings.group_id("honours"),
            routes=member_routes(AWARDS),
            relevant=ctx.orgs.relevant,
            description="Plans a notice to each member of this node an honour names: a "
            "title or award, an immediate reward, a proposal's reward, a stipend payment; and "
            "to the nominees of a nomination returned to their org or decided.",
        ),
    ]
