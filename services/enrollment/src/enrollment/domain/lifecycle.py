"""The states of an enrollment and the steps between them — the same machine at the home
node (what the member sees) and the owner node (the seat).

    requested ─┬─ (pending_approval → approved | rejected) ─┐
               └──────────────────────────────────────────────┴→ confirmed | waitlisted | refused
    requested → pending_budget (over budget: the owner's cadre decides) → confirmed | refused
    waitlisted → offered → confirmed (accepted) | cancelled (the offer expired)
    confirmed → attended → completed (hours, score, rank)        confirmed → no_show
    requested, pending_approval, pending_budget, confirmed, waitlisted, offered → cancelled
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    requested = "requested"
    pending_approval = "pending_approval"
    pending_budget = "pending_budget"
    rejected = "rejected"
    confirmed = "confirmed"
    waitlisted = "waitlisted"
    offered = "offered"
    refused = "refused"
    attended = "attended"
    completed = "completed"
    cancelled = "cancelled"
    no_show = "no_show"


class Step(StrEnum):
    approve = "approve"
    reject = "reject"
    confirm = "confirm"
    waitlist = "waitlist"
    refuse = "refuse"
    offer = "offer"
    accept = "accept"
    expire = "expire"
    cancel = "cancel"
    attend = "attend"
    no_show = "no_show"
    complete = "complete"
    revoke_completion = "revoke_completion"
    hold_for_budget = "hold_for_budget"
    approve_budget = "approve_budget"


S = Status
TRANSITIONS: dict[Step, tuple[frozenset[Status], Status]] = {
    Step.approve: (frozenset({S.pending_approval}), S.requested),
    Step.reject: (frozenset({S.pending_approval}), S.rejected),
    Step.confirm: (frozenset({S.requested}), S.confirmed),
    Step.waitlist: (frozenset({S.requested}), S.waitlisted),
    Step.refuse: (frozenset({S.requested, S.pending_budget}), S.refused),
    Step.hold_for_budget: (frozenset({S.requested}), S.pending_budget),
    Step.approve_budget: (frozenset({S.pending_budget}), S.confirmed),
    Step.offer: (frozenset({S.waitlisted}), S.offered),
    Step.accept: (frozenset({S.offered}), S.confirmed),
    Step.expire: (frozenset({S.offered}), S.cancelled),
    Step.cancel: (
        frozenset(
            {
                S.requested,
                S.pending_approval,
                S.pending_budget,
                S.confirmed,
                S.waitlisted,
                S.offered,
            }
        ),
        S.cancelled,
    ),
    Step.attend: (frozenset({S.confirmed, S.no_show}), S.attended),
    Step.no_show: (frozenset({S.confirmed, S.attended}), S.no_show),
    Step.complete: (frozenset({S.confirmed, S.attended}), S.completed),
    Step.revoke_completion: (frozenset({S.completed}), S.attended),
}

# Statuses in which the member holds a seat (it counts against capacity and quota).
HOLDS_SEAT = frozenset(
    {S.confirmed, S.offered, S.pending_budget, S.attended, S.completed, S.no_show}
)
# Statuses that end an enrollment: the member may ask for the programme again.
ENDED = frozenset({S.refused, S.rejected, S.cancelled})


class TransitionNotAllowed(Exception):
    """`step` is not allowed from `state`; rendered as 409 naming both."""

    def __init__(self, state: Status | str, step: Step) -> None:
        super().__init__(f"cannot {step.value} an enrollment that is {Status(state).value}")
        self.state = Status(state)
        self.step = step


def allowed(state: Status | str, step: Step) -> bool:
    sources, _ = TRANSITIONS[step]
    return Status(state) in sources


def next_status(state: Status | str, step: Step) -> Status:
    """The status after `step`, or TransitionNotAllowed."""
    sources, target = TRANSITIONS[step]
    if Status(state) not in sources:
        raise TransitionNotAllowed(state, step)
    return target


# Still going: a member who moves within the node takes these along (their history stays
# with the org it happened in); one who leaves the union gives them up.
OPEN: frozenset[Status] = frozenset(
    {S.requested, S.pending_approval, S.pending_budget, S.confirmed, S.waitlisted, S.offered}
)
