"""Who must act: one declarative rule per "needs action" case, told to the staff (the
directory of `service/staff.py`) of the org that must act, by their duty.

    StaffRule(
        SomethingWaits,
        notice=SOMETHING_NEEDED,                  # the delivery's event type (its templates)
        org=lambda e: e.org_that_acts,            # None: nobody (e.g. no such stage)
        duty="approvals",                         # or VETO_DEPARTMENTS: each of the scheme's
        applies=lambda e: ...,                    # the new state waits for that org
        fields=lambda e: {...},                   # what the templates see
    )

A staff notice is its own event type (one event may tell its members one thing and the
staff who must act another), kept with the event's `ce_id`: one delivery per (event, staff
recipient, channel), however often the event arrives and however many duties match. Only
orgs this node hosts are told; titles come from the local store (`service/catalogue.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import repository
from notifications.domain.deliveries import Priority
from notifications.domain.notices import (
    APPROVAL_NEEDED,
    ENDORSEMENT_NEEDED,
    OBJECTION_FILED,
    REVIEW_NEEDED,
    VETO_CHECK_NEEDED,
)
from notifications.service import catalogue
from notifications.service.catalogue import UnknownScheme
from notifications.service.context import Context
from notifications.service.planning import is_stale, lives_here, plan_notices
from notifications.service.rules import DEADLINE_FORMAT, RULES
from notifications.service.staff import VETO, staff_with_duty
from shared.contracts.base import Event
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
    EnrollmentPendingApproval,
    NominationAdmitted,
    NominationEndorsed,
    NominationFiled,
    NominationResubmitted,
    NominationVetoCleared,
    ObjectionSubmitted,
)
from shared.contracts.events.nominations import NominationStepEvent
from shared.timezones import zone

E = TypeVar("E", bound=Event)

# The consumer whose routes carry needs-action events (consumers.py builds its routes).
STAFF = "staff_notices"

# A rule's duty meaning "each `veto:<department>` of the nomination's scheme".
VETO_DEPARTMENTS = "veto:*"

STAFF_BATCH = 500  # staff recipients planned per INSERT


def _always(event: Any) -> bool:
    return True


def _no_fields(event: Any) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class StaffRule(Generic[E]):
    """How one event type becomes a notice to the staff who must act on it."""

    event: type[E]
    notice: str
    org: Callable[[E], str | None]
    duty: str
    consumer: str = STAFF
    kind: str = "actions"
    priority: Priority = Priority.normal
    applies: Callable[[E], bool] = _always
    fields: Callable[[E], dict[str, Any]] = _no_fields


def _local(ctx: Context, value: Any) -> str:
    """An instant of the event's data in the federation's time zone, as notices show it."""
    if not isinstance(value, datetime):
        return ""
    return value.astimezone(zone(ctx.settings.federation_timezone)).strftime(DEADLINE_FORMAT)


def _stage(event: NominationStepEvent) -> str | None:
    state = event.state
    if state.status != "endorsing" or state.stage_index >= len(state.stages):
        return None
    return state.stages[state.stage_index]


def _nomination_fields(event: NominationStepEvent) -> dict[str, Any]:
    state = event.state
    return {
        "nomination_id": state.nomination_id,
        "scheme_id": state.scheme_id,
        "home_org": state.home_org,
        "team_name": state.team_name,
        "version": state.version,
    }


def _waits(status: str) -> Callable[[NominationStepEvent], bool]:
    return lambda e: e.state.status == status


def _endorsement(model: type[NominationStepEvent]) -> StaffRule[Any]:
    return StaffRule(
        model, ENDORSEMENT_NEEDED, org=_stage, duty="endorsements", fields=_nomination_fields
    )


def _veto(model: type[NominationStepEvent]) -> StaffRule[Any]:
    return StaffRule(
        model,
        VETO_CHECK_NEEDED,
        org=lambda e: e.state.owner_org,
        duty=VETO_DEPARTMENTS,
        applies=_waits("veto_check"),
        fields=_nomination_fields,
    )


def _review(model: type[NominationStepEvent]) -> StaffRule[Any]:
    return StaffRule(
        model,
        REVIEW_NEEDED,
        org=lambda e: e.state.owner_org,
        duty="reviews",
        applies=_waits("in_review"),
        fields=_nomination_fields,
    )


# The steps after which a nomination waits for an org: an endorsing stage, the veto
# departments (all at once), the review panel. A step that leaves it waiting where it was
# (one department cleared, others still checking; a reviewer scored) tells nobody again.
STAFF_RULES: tuple[StaffRule[Any], ...] = (
    StaffRule(
        EnrollmentPendingApproval,
        APPROVAL_NEEDED,
        org=lambda e: e.home_org,
        duty="approvals",
        fields=lambda e: {
            "enrollment_id": e.enrollment_id,
            "programme_id": e.programme_id,
            "member_id": e.member_id,
            "home_org": e.home_org,
            "requested_at": e.requested_at,
        },
    ),
    *(_endorsement(m) for m in (NominationFiled, NominationAdmitted, NominationEndorsed)),
    _endorsement(NominationResubmitted),
    *(_veto(m) for m in (NominationAdmitted, NominationEndorsed, NominationResubmitted)),
    *(_review(m) for m in (NominationAdmitted, NominationEndorsed, NominationResubmitted)),
    _review(NominationVetoCleared),
    StaffRule(
        ObjectionSubmitted,
        OBJECTION_FILED,
        org=lambda e: e.owner_org,
        duty="objections",
        fields=lambda e: {
            "objection_id": e.objection_id,
            "nomination_id": e.nomination_id,
            "notice_id": e.notice_id,
            "owner_org": e.owner_org,
            "submitted_at": e.submitted_at,
        },
    ),
)


def staff_rules_for(event: Event) -> list[StaffRule[Any]]:
    return [rule for rule in STAFF_RULES if rule.event is type(event)]


def staff_rules_of(consumer: str) -> list[StaffRule[Any]]:
    return [rule for rule in STAFF_RULES if rule.consumer == consumer]


STAFF_NOTICES: dict[str, StaffRule[Any]] = {rule.notice: rule for rule in STAFF_RULES}


def notice_kind(event_type: str) -> tuple[str, Priority]:
    """The kind (what recipients choose channels for) and priority of a delivery's event
    type, whichever registry plans it: member rules, staff rules, or the notices planned by
    the catalogue (reminders, programme changes)."""
    from notifications.service.reminders import SCHEDULED_KINDS

    if event_type in RULES:
        return RULES[event_type].kind, RULES[event_type].priority
    if event_type in STAFF_NOTICES:
        return STAFF_NOTICES[event_type].kind, STAFF_NOTICES[event_type].priority
    return SCHEDULED_KINDS.get(event_type, ("general", Priority.normal))


async def _duties(session: AsyncSession, rule: StaffRule[Any], event: Event) -> list[str]:
    if rule.duty != VETO_DEPARTMENTS:
        return [rule.duty]
    scheme_id = event.state.scheme_id  # type: ignore[attr-defined]
    scheme = await catalogue.get_scheme(session, scheme_id)
    if scheme is None:
        raise UnknownScheme(scheme_id)
    return [f"{VETO}{department}" for department in scheme.veto_departments]


async def _data(
    session: AsyncSession, ctx: Context, rule: StaffRule[Any], event: Event, org: str
) -> dict[str, Any]:
    values = rule.fields(event)
    data: dict[str, Any] = {
        k: _local(ctx, v) if k.endswith("_at") else v for k, v in values.items() if v is not None
    }
    data.update(await catalogue.titles(session, data))
    known = await ctx.orgs.get(org, session)
    data["org_id"] = org
    data["org_name"] = known.name if known is not None else org
    member_id = data.pop("member_id", None)
    if member_id is not None:  # the cadres who approve know their members by name
        recipient = await repository.get_recipient(session, member_id)
        if recipient is not None:
            data["member_name"] = recipient.name
    return data


async def plan_staff_notices(
    session: AsyncSession, ctx: Context, event: Event, envelope: Envelope
) -> int:
    """One pending delivery per channel for each staff member with the duty each matching
    rule names at the org it names, when this node hosts that org; returns how many rows
    are new (none for a redelivered event)."""
    if is_stale(ctx, envelope):
        return 0
    added = 0
    for rule in staff_rules_for(event):
        org = rule.org(event) if rule.applies(event) else None
        if org is None or not await lives_here(session, ctx, org):
            continue
        data = await _data(session, ctx, rule, event, org)
        notice = replace(envelope, type=rule.notice)
        for duty in await _duties(session, rule, event):
            department = duty.removeprefix(VETO) if duty.startswith(VETO) else None
            values = data if department is None else {**data, "department": department}
            added += await _plan_for_duty(session, ctx, notice, org, duty, values)
    return added


async def _plan_for_duty(
    session: AsyncSession,
    ctx: Context,
    notice: Envelope,
    org: str,
    duty: str,
    data: Mapping[str, Any],
) -> int:
    added, after = 0, None
    while True:
        batch = await staff_with_duty(session, org, duty, after=after, limit=STAFF_BATCH)
        if batch:
            audience = [(recipient_id, org) for _, recipient_id in batch]
            added += await plan_notices(session, ctx, notice, audience, dict(data))
        if len(batch) < STAFF_BATCH:
            return added
        after = batch[-1][0]
