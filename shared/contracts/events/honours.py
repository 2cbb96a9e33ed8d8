"""Honours: what a member is recognised with, whoever grants it (a scheme's decision, an
immediate reward, a proposal's reward, a stipend payment). One event type so that the
member's home node keeps one record and tells the member once, whatever the source."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from shared.contracts.base import Event, register
from shared.contracts.events.common import OrgId


class SchemeKind(StrEnum):
    """The built-in kinds of award scheme."""

    model_worker = "model_worker"
    star_team = "star_team"
    star_employee = "star_employee"
    pioneer_worker = "pioneer_worker"
    skilled_craftsman = "skilled_craftsman"
    operational_expert = "operational_expert"
    technical_post_leader = "technical_post_leader"
    multi_skilled_worker = "multi_skilled_worker"
    technical_appraisal_grade = "technical_appraisal_grade"
    annual_top_earner = "annual_top_earner"
    rationalization_proposal = "rationalization_proposal"
    technological_innovation = "technological_innovation"
    energy_saving = "energy_saving"
    immediate_reward = "immediate_reward"


class BenefitKind(StrEnum):
    cash = "cash"
    promotion_recommendation = "promotion_recommendation"
    further_study = "further_study"
    recuperation_leave = "recuperation_leave"
    study_visit = "study_visit"
    tourism = "tourism"


class HonourKind(StrEnum):
    award = "award"  # a scheme's decision: a title (model worker, star team, …) or an award
    reward = "reward"  # an immediate reward
    proposal_reward = "proposal_reward"  # an adopted rationalization proposal's reward
    stipend = "stipend"  # one yearly payment of a title's maintenance award


@register
class HonourGranted(Event):
    """A member, or each member of a team, was recognised. Pseudonymous: member ids, the
    granting org and the home org; the home node keeps it on the member's record and tells
    the member. Keyed by the source (nomination, reward, proposal or stipend schedule)."""

    ce_type = "bigschool.awards.honour_granted.v1"

    honour_id: str = Field(description="Unique per grant; a redelivery carries the same id.")
    kind: HonourKind
    source_id: str = Field(description="The nomination, reward, proposal or stipend schedule.")
    scheme_id: str | None = None
    scheme_kind: SchemeKind | None = None
    title: str = Field(max_length=300, description="What it is called, e.g. the title won.")
    granting_org: OrgId
    home_org: OrgId
    member_ids: list[str] = Field(min_length=1)
    team_name: str | None = Field(None, max_length=200)
    amount_fen: int = Field(0, ge=0, description="Money paid with it, in fen (0.01 yuan).")
    benefits: list[BenefitKind] = Field(default_factory=list)
    reason: str = Field("", max_length=2000)
    year: int | None = Field(None, description="The round's or period's year, if any.")
    granted_at: datetime

    def subject(self) -> str:
        return self.honour_id

    def key(self) -> str:
        return self.source_id

    def orgs(self) -> list[str]:
        return [self.granting_org, self.home_org]
