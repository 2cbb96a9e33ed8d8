"""Thin Kafka handlers: the consumer machinery validated and de-duplicated the event; each
handler calls one use case in the transaction it is given."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from awards.models import Nomination
from awards.nomination_repository import get_nomination
from awards.service.admission import admit_filed
from awards.service.context import Context
from awards.service.facts import (
    record_completed_enrollment,
    record_confirmed_enrollment,
    revoke_completion,
)
from awards.service.honours import record_honour
from awards.service.members import forget_member, record_member
from awards.service.nominating import keep_dossier
from awards.service.nomination_steps import apply_step
from awards.service.notices import record_notice
from awards.service.objections import on_objection_closed, on_objection_resolved, receive_objection
from awards.service.schemes import keep_round, keep_scheme
from awards.service.transfers import hand_over_honours, take_honours
from shared.contracts import topics
from shared.contracts.base import REGISTRY
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
    EnrollmentCompleted,
    EnrollmentCompletionRevoked,
    EnrollmentConfirmed,
    HonourGranted,
    HonoursTransferred,
    MemberLeft,
    MemberRegistered,
    MemberTransferred,
    NominationDossier,
    NominationFiled,
    NominationObjectionResolved,
    NoticePublished,
    ObjectionClosed,
    ObjectionSubmitted,
    RoundChanged,
    SchemePublished,
)
from shared.contracts.events.nominations import NominationStepEvent
from shared.messaging.consumer import ConsumerSpec
from shared.orgs.consumer import org_tree_consumer

# Every step event of a nomination: one handler applies them all to the replica.
NOMINATION_STEPS = [
    t for t in REGISTRY.values() if isinstance(t, type) and issubclass(t, NominationStepEvent)
]


async def _nomination(session: AsyncSession, event: NominationFiled) -> Nomination:
    row = await get_nomination(session, event.state.nomination_id)
    assert row is not None  # applied before (here, or by our own step)
    return row


def consumer_specs(ctx: Context) -> list[ConsumerSpec]:
    settings = ctx.settings

    async def on_confirmed(s: AsyncSession, e: EnrollmentConfirmed, env: Envelope) -> None:
        await record_confirmed_enrollment(s, ctx, e, env)

    async def on_completed(s: AsyncSession, e: EnrollmentCompleted, env: Envelope) -> None:
        await record_completed_enrollment(s, ctx, e, env)

    async def on_revoked(s: AsyncSession, e: EnrollmentCompletionRevoked, _: Envelope) -> None:
        await revoke_completion(s, ctx, e)

    async def on_granted(s: AsyncSession, e: HonourGranted, env: Envelope) -> None:
        await record_honour(s, ctx, e, env)

    async def on_transferred(s: AsyncSession, e: MemberTransferred, _: Envelope) -> None:
        await hand_over_honours(s, ctx, e)

    async def on_honours(s: AsyncSession, e: HonoursTransferred, _: Envelope) -> None:
        await take_honours(s, ctx, e)

    async def on_member(s: AsyncSession, e: MemberRegistered, _: Envelope) -> None:
        await record_member(s, ctx, e)

    async def on_left(s: AsyncSession, e: MemberLeft, _: Envelope) -> None:
        await forget_member(s, e)

    async def on_scheme(s: AsyncSession, e: SchemePublished, _: Envelope) -> None:
        await keep_scheme(s, e)

    async def on_round(s: AsyncSession, e: RoundChanged, _: Envelope) -> None:
        await keep_round(s, e)

    async def on_step(s: AsyncSession, e: NominationStepEvent, env: Envelope) -> None:
        if not any([await ctx.orgs.hosts(org, s) for org in e.orgs()]):
            return  # below the owner, yet not involved: the header filter keeps it, we do not
        row = await apply_step(s, ctx, e, env)
        if isinstance(e, NominationFiled):
            await admit_filed(s, ctx, row or await _nomination(s, e), e)
        elif isinstance(e, NominationObjectionResolved):
            await on_objection_resolved(s, ctx, e)

    async def on_dossier(s: AsyncSession, e: NominationDossier, _: Envelope) -> None:
        await keep_dossier(s, ctx, e)

    return [
        org_tree_consumer(settings, ctx.orgs),
        ConsumerSpec(
            name="nominations",
            topics=[topics.AWARDS],
            group_id=settings.group_id("nominations"),
            routes={
                SchemePublished: on_scheme,
                RoundChanged: on_round,
                **dict.fromkeys(NOMINATION_STEPS, on_step),
            },
            relevant=ctx.orgs.relevant,
            description="Keeps copies of the schemes and rounds of orgs above this node, and "
            "every nomination that involves one of its orgs, step by step (with its trail); "
            "admits or refuses the nominations filed for schemes this node owns.",
        ),
        ConsumerSpec(
            name="awards_inbox",
            topics=[topics.inbox(settings.node_id)],
            group_id=settings.group_id("awards_inbox"),
            routes={NominationDossier: on_dossier},
            description="Requests addressed to this node's awards: nomination dossiers sent up "
            "to an endorsing org or a scheme owner hosted here.",
        ),
        notices_consumer(ctx),
        ConsumerSpec(
            name="members",
            topics=[topics.members(settings.node_id)],
            group_id=settings.group_id("members"),
            routes={MemberRegistered: on_member, MemberLeft: on_left},
            description="Keeps this node's members (id, home org, display name for dossiers; "
            "never contact data) from the node-local topic; forgets those who leave.",
        ),
        ConsumerSpec(
            name="enrollment_facts",
            topics=[topics.ENROLLMENT],
            group_id=settings.group_id("enrollment_facts"),
            routes={
                EnrollmentConfirmed: on_confirmed,
                MemberTransferred: on_transferred,
                EnrollmentCompleted: on_completed,
                EnrollmentCompletionRevoked: on_revoked,
            },
            relevant=ctx.orgs.relevant,
            description="Records eligibility facts about members hosted at this node "
            "(confirmations; completions, which credit the hours; a revoked completion goes); "
            "hands them over when a member moves to another node.",
        ),
        ConsumerSpec(
            name="honours",
            topics=[topics.AWARDS],
            group_id=settings.group_id("honours"),
            routes={HonoursTransferred: on_honours, HonourGranted: on_granted},
            relevant=ctx.orgs.relevant,
            description="Keeps the facts and honours of members who moved here from another "
            "node, and the honours granted to members hosted here (their honours record).",
        ),
    ]


def notices_consumer(ctx: Context) -> ConsumerSpec:
    """Public notices and objections arriving in this node's inbox."""

    async def on_notice(s: AsyncSession, e: NoticePublished, env: Envelope) -> None:
        await record_notice(s, ctx, e, env)

    async def on_objection(s: AsyncSession, e: ObjectionSubmitted, env: Envelope) -> None:
        await receive_objection(s, ctx, e, env)

    async def on_closed(s: AsyncSession, e: ObjectionClosed, _: Envelope) -> None:
        await on_objection_closed(s, ctx, e)

    return ConsumerSpec(
        name="notices",
        topics=[topics.inbox(ctx.settings.node_id)],
        group_id=ctx.settings.group_id("notices"),
        routes={
            NoticePublished: on_notice,
            ObjectionSubmitted: on_objection,
            ObjectionClosed: on_closed,
        },
        description="Stores the public notices of the owners above this node (once, however "
        "many messages carry a shortlist); at a scheme's owner, opens the objections members "
        "file (or dismisses one filed too late); at the objector's node, records an objection "
        "dismissed on arrival.",
    )
