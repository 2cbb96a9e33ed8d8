"""Objections to a public notice's nominations (SPEC §3).

A member files one at their home node, while the notice runs: it is kept there (to show the
member the answer) and sent to the owner's inbox as `ObjectionSubmitted`. At the owner it is
stored and the nomination takes the step `NominationObjected` (an objection open); one filed
after the notice period, or against a nomination no longer on notice, is dismissed on arrival
with its answer (`ObjectionClosed` back to the home node) and no step. The owner's cadre
resolves it: `NominationObjectionResolved`, which withdraws the nomination when upheld; the
home node records the answer when that step reaches it (`on_objection_resolved`).

The objection's text stays at those two nodes: the step events on the federation topic name
the objection, the objector's org and the owner's answer, not the objector.

Who sees an objection: the objector, and cadres of the owner org at the owner's node.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from awards import member_repository, nomination_repository
from awards import notice_repository as repo
from awards.domain.nominations import StepRefused
from awards.domain.objections import ObjectionStatus, notice_open, on_arrival, resolved
from awards.errors import Conflict, Forbidden, NotFound, Unprocessable
from awards.models import Objection
from awards.notice_repository import Position
from awards.schemas import ObjectionIn, ResolveIn
from awards.service.context import Context
from awards.service.nomination_access import owned_scheme
from awards.service.nomination_steps import state_of, take_step
from awards.service.notices import owner_round, visible_notice
from shared.auth import Principal, Role
from shared.contracts import topics
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
    NominationObjected,
    NominationObjectionResolved,
    ObjectionClosed,
    ObjectionSubmitted,
)
from shared.messaging.consumer import Rejected
from shared.orgs.directory import UnknownOrg

# The trail's actor of an objection: the objector stays at the owner and their home node.
OBJECTOR = "objector"


async def _host(session: AsyncSession, ctx: Context, org_id: str) -> str:
    org = await ctx.orgs.get(org_id, session)
    if org is None:
        raise UnknownOrg(org_id)
    return org.hosted_by


async def file_objection(
    session: AsyncSession, ctx: Context, who: Principal, notice_id: str, body: ObjectionIn
) -> Objection:
    """A member of this node objects to a nomination on a notice they may see, while it runs."""
    notice = await visible_notice(session, ctx, who, notice_id)
    if who.member_id is None:
        raise Forbidden("objections are filed by members")
    member = await member_repository.get_member(session, who.member_id)
    if member is None:
        raise Forbidden("an objection is filed at the member's home node")
    if await repo.get_entry(session, notice_id, body.nomination_id) is None:
        raise Unprocessable(f"nomination_id: {body.nomination_id} is not on notice {notice_id}")
    now = ctx.clock.now()
    if not notice_open(notice.ends_at, now):
        raise Conflict(f"the notice period has ended (at {notice.ends_at.isoformat()})")
    event = ObjectionSubmitted(
        objection_id=str(uuid.uuid4()),
        notice_id=notice_id,
        nomination_id=body.nomination_id,
        owner_org=notice.owner_org,
        objector_id=member.member_id,
        objector_org=member.home_org,
        reasons=body.reasons,
        submitted_at=now,
    )
    objection = Objection(**event.model_dump(), status=ObjectionStatus.open.value)
    session.add(objection)
    owner_node = await _host(session, ctx, notice.owner_org)
    await ctx.outbox.stage(session, event, topic=topics.inbox(owner_node))
    return objection


async def receive_objection(
    session: AsyncSession, ctx: Context, event: ObjectionSubmitted, envelope: Envelope
) -> None:
    """At the owner: store the objection once and open it on the nomination, or dismiss it
    on arrival when the nomination may no longer be objected to. Never refuses the message
    for a step that does not fit: the objector gets an answer instead."""
    if await _host(session, ctx, event.objector_org) != envelope.node:
        raise Rejected("unauthorised_objection", ["ce_source"])
    if not await ctx.orgs.hosts(event.owner_org, session):
        raise Rejected("not_the_owner_node", ["owner_org"])
    await repo.add_objection(session, event.model_dump() | {"status": ObjectionStatus.open.value})
    nomination = await nomination_repository.get_nomination(
        session, event.nomination_id, for_update=True
    )
    if nomination is None or nomination.owner_org != event.owner_org:
        return await _close(session, ctx, event, "no such nomination on notice here")
    outcome = on_arrival(state_of(nomination), event.submitted_at)
    if isinstance(outcome, str):
        return await _close(session, ctx, event, outcome)
    await take_step(
        session, ctx, nomination, NominationObjected, outcome,
        actor=OBJECTOR, actor_org=event.objector_org,
        objection_id=event.objection_id, objector_org=event.objector_org,
    )  # fmt: skip


async def _close(
    session: AsyncSession, ctx: Context, event: ObjectionSubmitted, answer: str
) -> None:
    now = ctx.clock.now()
    row = await repo.get_objection(session, event.objection_id, for_update=True)
    if row is not None:
        _answer(row, ObjectionStatus.dismissed, answer, now)
    closed = ObjectionClosed(
        objection_id=event.objection_id,
        nomination_id=event.nomination_id,
        owner_org=event.owner_org,
        objector_org=event.objector_org,
        answer=answer,
        closed_at=now,
    )
    home = await _host(session, ctx, event.objector_org)
    await ctx.outbox.stage(session, closed, topic=topics.inbox(home))


def _answer(row: Objection, status: ObjectionStatus, answer: str, at: datetime) -> None:
    """Answer an open objection; an answered one keeps its answer (a redelivered step)."""
    if row.status == ObjectionStatus.open.value:
        row.status, row.answer, row.resolved_at = status.value, answer, at


def _owner_cadre(who: Principal, row: Objection) -> bool:
    return who.has(Role.cadre) and who.org == row.owner_org


async def visible_objection(
    session: AsyncSession, ctx: Context, who: Principal, objection_id: str, *, lock: bool = False
) -> Objection:
    row = await repo.get_objection(session, objection_id, for_update=lock)
    if row is None or not (
        (who.member_id is not None and who.member_id == row.objector_id)
        or (_owner_cadre(who, row) and await ctx.orgs.hosts(row.owner_org, session))
    ):
        raise NotFound(f"objection_id: no objection {objection_id} here")
    return row


async def resolve_objection(
    session: AsyncSession, ctx: Context, who: Principal, objection_id: str, body: ResolveIn
) -> Objection:
    """The owner's cadre answers an open objection: upheld withdraws the nomination."""
    row = await visible_objection(session, ctx, who, objection_id, lock=True)
    if not _owner_cadre(who, row):
        raise Forbidden(f"only a cadre of {row.owner_org} answers objections")
    if row.status != ObjectionStatus.open.value:
        raise Conflict(f"the objection is already {row.status}")
    nomination = await nomination_repository.get_nomination(
        session, row.nomination_id, for_update=True
    )
    if nomination is None:
        raise Conflict(f"the nomination {row.nomination_id} of the objection is not here")
    await owned_scheme(session, ctx, nomination)
    try:
        state, status = resolved(state_of(nomination), body.upheld)
    except StepRefused as refused:
        raise Conflict(f"{refused}") from None
    await take_step(
        session, ctx, nomination, NominationObjectionResolved, state,
        actor=who.sub, actor_org=who.org, reason=body.answer,
        objection_id=row.objection_id, objector_org=row.objector_org, upheld=body.upheld,
    )  # fmt: skip
    _answer(row, status, body.answer, ctx.clock.now())
    return row


async def on_objection_resolved(
    session: AsyncSession, ctx: Context, event: NominationObjectionResolved
) -> None:
    """For the `nominations` consumer, after apply_step: the objector's home node records the
    owner's answer on its copy of the objection (none here: not the objector's node)."""
    row = await repo.get_objection(session, event.objection_id, for_update=True)
    if row is not None:
        status = ObjectionStatus.upheld if event.upheld else ObjectionStatus.dismissed
        _answer(row, status, event.reason, event.at)


async def on_objection_closed(session: AsyncSession, ctx: Context, event: ObjectionClosed) -> None:
    """The owner dismissed the objection as it arrived: the home node records the answer."""
    row = await repo.get_objection(session, event.objection_id, for_update=True)
    if row is not None:
        _answer(row, ObjectionStatus.dismissed, event.answer, event.closed_at)


async def objections_of_round(
    session: AsyncSession,
    ctx: Context,
    who: Principal,
    round_id: str,
    status: ObjectionStatus | None,
    *,
    after: Position | None,
    limit: int,
) -> list[Objection]:
    await owner_round(session, ctx, who, round_id, "read its objections")
    return await repo.objections_of_round(
        session, round_id, status=status.value if status else None, after=after, limit=limit
    )
