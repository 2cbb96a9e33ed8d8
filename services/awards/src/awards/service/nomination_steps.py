"""Taking a nomination step, and applying one: the acting node publishes the step event and
applies it to its own replica in the same transaction; every other node involved applies it
when the event arrives. A replica applies a step once and in order (the `step` counter)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from awards import nomination_repository as repo
from awards.models import Nomination, NominationStep
from awards.service.context import Context
from shared.contracts import topics
from shared.contracts.envelope import Envelope
from shared.contracts.events import NominationState
from shared.contracts.events.nominations import NominationStepEvent

# Fields of a step event that are not state, actor, time or reason: the step's details.
_COMMON = frozenset({"state", "step", "actor", "actor_org", "at", "reason"})


def state_of(row: Nomination) -> NominationState:
    return NominationState(
        nomination_id=row.nomination_id,
        scheme_id=row.scheme_id,
        round_id=row.round_id,
        owner_org=row.owner_org,
        home_org=row.home_org,
        nominee=row.nominee,  # checked when it was stored
        member_ids=row.member_ids,
        team_name=row.team_name,
        stages=row.stages,
        status=row.status,
        stage_index=row.stage_index,
        version=row.version,
        open_objections=row.open_objections,
        notice_ends_at=row.notice_ends_at,
    )


def _write_state(row: Nomination, state: NominationState, step: int, at: datetime) -> None:
    row.scheme_id = state.scheme_id
    row.round_id = state.round_id
    row.owner_org = state.owner_org
    row.home_org = state.home_org
    row.nominee = state.nominee
    row.member_ids = list(state.member_ids)
    row.team_name = state.team_name
    row.stages = list(state.stages)
    row.status = state.status
    row.stage_index = state.stage_index
    row.version = state.version
    row.open_objections = state.open_objections
    row.notice_ends_at = state.notice_ends_at
    row.step = step
    row.updated_at = at


async def apply_step(
    session: AsyncSession, ctx: Context, event: NominationStepEvent, envelope: Envelope
) -> Nomination | None:
    """Bring this node's replica to the state after `event`; None when it was applied before
    (our own step coming back, or a redelivery)."""
    state = event.state
    row = await repo.get_nomination(session, state.nomination_id, for_update=True)
    if row is not None and row.step >= event.step:
        return None
    if row is None:
        row = Nomination(nomination_id=state.nomination_id, amount_fen=0)
        session.add(row)
    _write_state(row, state, event.step, ctx.clock.now())
    details: dict[str, Any] = event.model_dump(mode="json", exclude=set(_COMMON))
    session.add(
        NominationStep(
            nomination_id=state.nomination_id,
            step=event.step,
            ce_id=envelope.id,
            ce_type=envelope.type,
            status=state.status,
            actor=event.actor,
            actor_org=event.actor_org,
            at=event.at,
            reason=event.reason,
            detail=details,
        )
    )
    return row


async def take_step(
    session: AsyncSession,
    ctx: Context,
    row: Nomination | None,
    event_type: type[NominationStepEvent],
    state: NominationState,
    *,
    actor: str,
    actor_org: str,
    reason: str = "",
    **details: Any,
) -> NominationStepEvent:
    """Publish the step on the awards topic and apply it here, in the caller's transaction."""
    event = event_type(
        state=state,
        step=(row.step if row is not None else 0) + 1,
        actor=actor,
        actor_org=actor_org,
        at=ctx.clock.now(),
        reason=reason,
        **details,
    )
    envelope = await ctx.outbox.stage(session, event, topic=topics.AWARDS)
    await apply_step(session, ctx, event, envelope)
    return event
