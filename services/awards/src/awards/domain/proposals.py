"""Rationalization proposals ("big suggestions, big rewards"): the states a proposal goes
through, the guard on each step, and who may see or move one.

    submitted ─┬→ rejected (with reasons)
               └→ adopted → in_trial → assessed (yearly benefit, in fen) → rewarded

A proposal is evaluated by its author's home org or an org above it; the cadres of that org
take every step after the submission.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from awards.domain.proposal_tiers import Tier, reward_for, tier_for
from shared.auth import Principal, Role


class ProposalState(StrEnum):
    submitted = "submitted"
    rejected = "rejected"
    adopted = "adopted"
    in_trial = "in_trial"
    assessed = "assessed"
    rewarded = "rewarded"


class ProposalStep(StrEnum):
    submit = "submit"
    reject = "reject"
    adopt = "adopt"
    trial = "trial"
    assess = "assess"
    reward = "reward"


S = ProposalState
TRANSITIONS: dict[ProposalStep, tuple[S, S]] = {
    ProposalStep.reject: (S.submitted, S.rejected),
    ProposalStep.adopt: (S.submitted, S.adopted),
    ProposalStep.trial: (S.adopted, S.in_trial),
    ProposalStep.assess: (S.in_trial, S.assessed),
    ProposalStep.reward: (S.assessed, S.rewarded),
}
# The adoption rate counts these as adopted, and these plus `rejected` as evaluated.
ADOPTED_OR_LATER: frozenset[S] = frozenset({S.adopted, S.in_trial, S.assessed, S.rewarded})
EVALUATED: frozenset[S] = ADOPTED_OR_LATER | {S.rejected}

MAX_BENEFIT_FEN = 10**15  # ten trillion yuan a year: far above any proposal, far below overflow


class ProposalError(Exception):
    """A step the proposal refuses; `field` names what the caller got wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class StepNotAllowed(ProposalError):
    """The step does not follow from the proposal's state (rendered as 409)."""

    def __init__(self, state: S, step: ProposalStep) -> None:
        super().__init__("state", f"cannot {step.value} a proposal that is {state.value}")
        self.state = state
        self.step = step


class InvalidStep(ProposalError):
    """The step's own input is wrong (rendered as 422)."""


@dataclass(frozen=True)
class StepTaken:
    """One step, as the append-only trail keeps it."""

    step: ProposalStep
    from_state: S | None
    to_state: S
    note: str | None = None
    benefit_fen: int | None = None
    reward_fen: int | None = None


@dataclass
class ProposalCase:
    """The aggregate: a proposal's state and figures. Each method checks its step and returns
    what the trail records; the caller stores the new state and the step together."""

    state: S
    benefit_fen: int | None = None
    reward_fen: int | None = None

    def _move(self, step: ProposalStep) -> tuple[S, S]:
        source, target = TRANSITIONS[step]
        if self.state is not source:
            raise StepNotAllowed(self.state, step)
        before, self.state = self.state, target
        return before, target

    def reject(self, reasons: str) -> StepTaken:
        if not reasons.strip():
            # Checked before the state: a rejection without reasons is refused whatever else.
            raise InvalidStep("reasons", "a rejection must give its reasons")
        before, after = self._move(ProposalStep.reject)
        return StepTaken(ProposalStep.reject, before, after, reasons)

    def adopt(self, note: str | None = None) -> StepTaken:
        return StepTaken(ProposalStep.adopt, *self._move(ProposalStep.adopt), note)

    def start_trial(self, note: str | None = None) -> StepTaken:
        return StepTaken(ProposalStep.trial, *self._move(ProposalStep.trial), note)

    def assess(self, benefit_fen: int, note: str) -> StepTaken:
        if not 0 <= benefit_fen <= MAX_BENEFIT_FEN:
            raise InvalidStep("benefit_fen", f"must be between 0 and {MAX_BENEFIT_FEN}")
        if not note.strip():
            raise InvalidStep("note", "an assessment must say how the benefit was found")
        before, after = self._move(ProposalStep.assess)
        self.benefit_fen = benefit_fen
        return StepTaken(ProposalStep.assess, before, after, note, benefit_fen=benefit_fen)

    def reward(self, tiers: Sequence[Tier], source: str) -> StepTaken:
        """The reward the tier table gives for the assessed benefit; `source` names the table
        (kept in the step's note, since a table may change after the reward)."""
        before, after = self._move(ProposalStep.reward)
        benefit = self.benefit_fen or 0
        self.reward_fen = reward_for(tiers, benefit)
        tier = tier_for(tiers, benefit)
        basis = (
            f"no tier of {source} applies"
            if tier is None
            else (f"tier from {tier.min_benefit_fen} fen of {source}")
        )
        return StepTaken(
            ProposalStep.reward,
            before,
            after,
            basis,
            benefit_fen=benefit,
            reward_fen=self.reward_fen,
        )


class Access(IntEnum):
    """What a caller may do with one proposal: 404, read (403 on a step), or take steps."""

    none = 0
    read = 1
    act = 2


def is_staff(who: Principal) -> bool:
    return who.has(Role.cadre, Role.admin)


def access_to(who: Principal, author_id: str, evaluating_org: str, *, above: bool) -> Access:
    """`above`: the caller's org is the evaluating org or an org above it. The evaluating
    org's cadres act — never on their own proposal; the author and cadres above read."""
    author = who.member_id is not None and who.member_id == author_id
    if is_staff(who) and who.org == evaluating_org and not author:
        return Access.act
    if author or (is_staff(who) and above):
        return Access.read
    return Access.none
