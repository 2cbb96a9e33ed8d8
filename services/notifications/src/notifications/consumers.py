"""Thin Kafka handlers: the consumer machinery validated and de-duplicated the event; each
handler calls one use case in the transaction it is given."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.service.catalogue import save_scheme
from notifications.service.context import Context
from notifications.service.fanout import record_fanout
from notifications.service.planning import plan_event
from notifications.service.recipients import forget_recipient, record_recipient
from notifications.service.reminders import (
    drop_seat,
    hold_seat,
    programme_cancelled,
    programme_saved,
    tell_seat_holders,
)
from notifications.service.rules import AWARDS, ENROLLMENT, MEMBERS, rules_of
from notifications.service.staff_rules import STAFF, plan_staff_notices, staff_rules_of
from notifications.webhooks.planning import plan_webhooks, webhook_event_types
from shared.contracts import topics
from shared.contracts.base import Event
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
    EnrollmentCancelled,
    EnrollmentCompleted,
    EnrollmentConfirmed,
    EnrollmentNoShow,
    EnrollmentOfferExpired,
    EnrollmentRefused,
    EnrollmentRefusedV2,
    MemberLeft,
    MemberRegistered,
    NoticePublished,
    ProgrammeCancelled,
    ProgrammeChanged,
    ProgrammePublished,
    SchemePublished,
)
from shared.messaging.consumer import ConsumerSpec, Handler
from shared.orgs.consumer import org_tree_consumer


def consumer_specs(ctx: Context) -> list[ConsumerSpec]:
    settings = ctx.settings

    async def on_member(s: AsyncSession, e: MemberRegistered, _: Envelope) -> None:
        await record_recipient(s, ctx, e)

    async def on_left(s: AsyncSession, e: MemberLeft, _: Envelope) -> None:
        await forget_recipient(s, e)

    async def on_notice(s: AsyncSession, e: NoticePublished, env: Envelope) -> None:
        await record_fanout(s, ctx, e, env)

    async def on_member_event(s: AsyncSession, e: Event, env: Envelope) -> None:
        await plan_event(s, ctx, e, env)

    async def on_webhook_event(s: AsyncSession, e: Event, env: Envelope) -> None:
        await plan_webhooks(s, ctx, e, env)

    async def on_staff_event(s: AsyncSession, e: Event, env: Envelope) -> None:
        await plan_staff_notices(s, ctx, e, env)

    async def on_programme(s: AsyncSession, e: ProgrammePublished, _: Envelope) -> None:
        await programme_saved(s, ctx, e)

    async def on_programme_changed(s: AsyncSession, e: ProgrammeChanged, env: Envelope) -> None:
        await programme_saved(s, ctx, e)
        await tell_seat_holders(s, ctx, e, env)

    async def on_programme_cancelled(s: AsyncSession, e: ProgrammeCancelled, _: Envelope) -> None:
        await programme_cancelled(s, ctx, e)

    async def on_scheme(s: AsyncSession, e: SchemePublished, _: Envelope) -> None:
        await save_scheme(s, e)

    async def on_seat_held(s: AsyncSession, e: EnrollmentConfirmed, _: Envelope) -> None:
        await hold_seat(
            s,
            ctx,
            enrollment_id=e.enrollment_id,
            programme_id=e.programme_id,
            member_id=e.member_id,
            home_org=e.home_org,
        )

    async def on_seat_gone(s: AsyncSession, e: EnrollmentCancelled, _: Envelope) -> None:
        await drop_seat(s, e.enrollment_id)

    seat_gone: list[type[Event]] = [
        EnrollmentCancelled,
        EnrollmentRefused,
        EnrollmentRefusedV2,
        EnrollmentOfferExpired,
        EnrollmentNoShow,
        EnrollmentCompleted,
    ]

    def member_routes(consumer: str) -> dict[type[Event], Handler]:
        """Every event type a rule (service/rules.py) puts on this consumer's routes."""
        return {rule.event: on_member_event for rule in rules_of(consumer)}

    return [
        org_tree_consumer(settings, ctx.orgs),
        ConsumerSpec(
            name="recipients",
            topics=[topics.members(settings.node_id)],
            group_id=settings.group_id("recipients"),
            routes={
                MemberRegistered: on_member,
                MemberLeft: on_left,
                **member_routes(MEMBERS),
            },
            description="Keeps the contact data of this node's members (node-local topic), "
            "and forgets all that names a member who left or moved away; plans the notices "
            "of news that never leaves the node (a proposal's evaluation).",
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
        ConsumerSpec(
            name="notices",
            topics=[topics.inbox(settings.node_id)],
            group_id=settings.group_id("notices"),
            routes={NoticePublished: on_notice},
            description="Records one fan-out job per public notice addressed to this node "
            "(and nothing else, so the consumer stays fast): the fan-out worker tells every "
            "member of the owner's subtree hosted here, in batches.",
        ),
        ConsumerSpec(
            name=STAFF,
            topics=[topics.ENROLLMENT, topics.AWARDS, topics.inbox(settings.node_id)],
            group_id=settings.group_id(STAFF),
            routes={rule.event: on_staff_event for rule in staff_rules_of(STAFF)},
            relevant=ctx.orgs.relevant,
            description="Tells the staff of this node's orgs what waits for their action "
            "(service/staff_rules.py): an enrollment to approve, a nomination to endorse, "
            "veto-check or review, an objection filed.",
        ),
        ConsumerSpec(
            name="catalogue",
            topics=[topics.ENROLLMENT, topics.AWARDS],
            group_id=settings.group_id("catalogue"),
            routes={
                ProgrammePublished: on_programme,
                ProgrammeChanged: on_programme_changed,
                ProgrammeCancelled: on_programme_cancelled,
                SchemePublished: on_scheme,
                EnrollmentConfirmed: on_seat_held,
                **{model: on_seat_gone for model in seat_gone},
            },
            relevant=ctx.orgs.relevant,
            description="Keeps programme and scheme titles (notices name them), the seats "
            "this node's members hold and their reminders before the start; tells the seat "
            "holders what changed when a programme's owner changes it.",
        ),
        ConsumerSpec(
            name="webhooks",
            topics=[topics.ENROLLMENT, topics.AWARDS],
            group_id=settings.group_id("webhooks"),
            routes={model: on_webhook_event for model in webhook_event_types()},
            relevant=ctx.orgs.relevant,
            description="Plans one signed webhook delivery per event and matching "
            "subscription of the node's integrators (notifications.webhooks).",
        ),
    ]
