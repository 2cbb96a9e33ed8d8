"""Rationalization proposals: their author is told of each evaluation step. The proposal is
evaluated at the author's home node, so the event travels on the node-local members topic
and never leaves the node."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.contracts.base import Event, register
from shared.contracts.events.common import OrgId

EvaluationStep = Literal["reject", "adopt", "trial", "assess", "reward"]


@register
class ProposalEvaluated(Event):
    """The evaluating org took a step on a member's proposal; `note` is what its cadres wrote
    (the reasons of a rejection, how a benefit was assessed)."""

    ce_type = "bigschool.awards.proposal_evaluated.v1"

    proposal_id: str
    member_id: str = Field(description="The author.")
    home_org: OrgId
    evaluating_org: OrgId
    title: str = Field(max_length=300)
    step: EvaluationStep
    state: str = Field(max_length=40, description="The proposal's state after the step.")
    note: str = Field("", max_length=4000)
    benefit_fen: int | None = Field(None, ge=0)
    reward_fen: int | None = Field(None, ge=0)
    at: datetime

    def subject(self) -> str:
        return self.proposal_id

    def orgs(self) -> list[str]:
        return [self.home_org, self.evaluating_org]
