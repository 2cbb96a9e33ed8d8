"""The nomination aggregate: which step may follow which, and the state after it. Pure: the
use cases load the state, ask for the step here, and publish the state it returns."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.contracts.events import NominationState


class StepRefused(Exception):
    """The step does not fit the nomination's state (HTTP 409)."""


@dataclass(frozen=True)
class Path:
    """The org path of a nomination: home org, endorsing orgs, owner."""

    home_org: str
    stages: list[str]
    owner_org: str


def endorsing_stages(
    chain: Sequence[tuple[str, str]], owner_org: str, endorse_levels: Collection[str]
) -> list[str]:
    """The orgs strictly between the home org and the owner that must endorse, nearest first.
    `chain` is the home org's ancestors nearest first as (org_id, level), up to the top."""
    stages: list[str] = []
    for org_id, level in chain:
        if org_id == owner_org:
            return stages
        if level in endorse_levels:
            stages.append(org_id)
    raise StepRefused(f"the scheme's owner {owner_org} is not above the nominee's org")


def _past_endorsements(state: NominationState) -> NominationState:
    """After the last endorsement the owner's veto checks come next."""
    if state.stage_index >= len(state.stages):
        return state.model_copy(update={"status": "veto_check"})
    return state.model_copy(update={"status": "endorsing"})


def _require(state: NominationState, *statuses: str) -> None:
    if state.status not in statuses:
        wanted = " or ".join(statuses)
        raise StepRefused(f"the nomination is {state.status}, not {wanted}")


def admit(state: NominationState) -> NominationState:
    _require(state, "filed")
    return _past_endorsements(state.model_copy(update={"stage_index": 0}))


def refuse(state: NominationState) -> NominationState:
    _require(state, "filed")
    return state.model_copy(update={"status": "refused"})


def current_stage(state: NominationState) -> str | None:
    if state.status != "endorsing" or state.stage_index >= len(state.stages):
        return None
    return state.stages[state.stage_index]


def _require_stage(state: NominationState, org_id: str) -> None:
    _require(state, "endorsing")
    if current_stage(state) != org_id:
        raise StepRefused(f"the nomination waits for {current_stage(state)}, not {org_id}")


def endorse(state: NominationState, org_id: str) -> NominationState:
    _require_stage(state, org_id)
    return _past_endorsements(state.model_copy(update={"stage_index": state.stage_index + 1}))


def send_back(state: NominationState, org_id: str) -> NominationState:
    _require_stage(state, org_id)
    return state.model_copy(update={"status": "returned"})


def resubmit(state: NominationState) -> NominationState:
    _require(state, "returned")
    update = {"stage_index": 0, "version": state.version + 1}
    return _past_endorsements(state.model_copy(update=update))


def check_veto(
    state: NominationState, cleared: Collection[str], departments: Collection[str], vetoed: bool
) -> NominationState:
    """After one department's check: vetoed, or in review once every department cleared."""
    _require(state, "veto_check")
    if vetoed:
        return state.model_copy(update={"status": "vetoed"})
    if set(departments) <= set(cleared):
        return state.model_copy(update={"status": "in_review"})
    return state


def start_review_if_no_veto(
    state: NominationState, departments: Collection[str]
) -> NominationState:
    """A scheme without veto departments goes straight to review."""
    if state.status == "veto_check" and not departments:
        return state.model_copy(update={"status": "in_review"})
    return state


def review(state: NominationState) -> NominationState:
    _require(state, "in_review")
    return state


def shortlist(state: NominationState, ends_at: datetime) -> NominationState:
    _require(state, "in_review")
    return state.model_copy(update={"status": "on_notice", "notice_ends_at": ends_at})


def object_to(state: NominationState, now: datetime) -> NominationState:
    _require(state, "on_notice")
    if state.notice_ends_at is not None and now >= state.notice_ends_at:
        raise StepRefused("the notice period has ended: objections are closed")
    return state.model_copy(update={"open_objections": state.open_objections + 1})


def resolve_objection(state: NominationState, upheld: bool) -> NominationState:
    if state.open_objections < 1:
        raise StepRefused("the nomination has no open objection")
    update: dict[str, object] = {"open_objections": state.open_objections - 1}
    if upheld and state.status == "on_notice":
        update["status"] = "withdrawn"
    return state.model_copy(update=update)


def check_decision(
    state: NominationState, granted: bool, now: datetime, grace: timedelta = timedelta()
) -> None:
    """A decision needs the notice period over and no objection open; a nomination never
    shortlisted may only be rejected. `grace`: an objection filed in the last moment of the
    notice travels from the member's node; decisions wait that long for it."""
    if state.status == "in_review" and not granted:
        return
    _require(state, "on_notice")
    if state.notice_ends_at is None or now < state.notice_ends_at:
        raise StepRefused(f"the notice period runs until {state.notice_ends_at}")
    if now < state.notice_ends_at + grace:
        raise StepRefused(
            f"objections filed in time may still arrive until {state.notice_ends_at + grace}"
        )
    if state.open_objections:
        raise StepRefused(f"{state.open_objections} objection(s) are still open")


def publish_decision(state: NominationState, granted: bool) -> NominationState:
    return state.model_copy(update={"status": "granted" if granted else "rejected"})


def recused(reviewer_org: str, home_org_chain: Sequence[str], owner_org: str) -> bool:
    """A reviewer from the nominee's own org or one of its ancestors below the owner must
    recuse. `home_org_chain` is the home org followed by its ancestors, nearest first."""
    for org_id in home_org_chain:
        if org_id == owner_org:
            return False
        if org_id == reviewer_org:
            return True
    return False
