"""Award schemes and their rounds: owned by an org at any level, published on the awards
topic keyed by scheme id, so that every node below the owner can take nominations for them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import Event, register
from shared.contracts.events.common import OrgId, OrgLevel, QualityArea
from shared.contracts.events.honours import BenefitKind, SchemeKind


class Criteria(BaseModel):
    """What a nominee must have done, checked at their home node from the facts it learnt
    from enrollment events and the honours on their record. Every field is optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_training_hours: float | None = Field(
        None, ge=0, le=10_000, description="Training hours completed in the round's year."
    )
    hours_area: QualityArea | None = Field(
        None, description="Count only the hours of this quality area (else all of them)."
    )
    best_rank_at_most: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="A rank at most this good in a contest or competition completed in the "
        "round's year (e.g. 3: a top-3 place).",
    )
    prerequisite_kinds: list[SchemeKind] = Field(
        default_factory=list,
        max_length=5,
        description="Scheme kinds of which the nominee must already hold a title.",
    )

    def is_empty(self) -> bool:
        return (
            self.min_training_hours is None
            and self.best_rank_at_most is None
            and not self.prerequisite_kinds
        )


NomineeKind = Literal["member", "team"]


class Quota(BaseModel):
    """At most `nominations` nominations a round from the subtree of `org_id`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    org_id: OrgId
    nominations: int = Field(ge=0, le=100_000)


class Benefit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: BenefitKind
    amount_fen: int = Field(0, ge=0, description="Money of a cash benefit, per grant, in fen.")
    detail: str = Field("", max_length=300)


class Stipend(BaseModel):
    """A yearly maintenance award that comes with the title: paid on the grant's day and on
    each anniversary, `years` times."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    yearly_fen: int = Field(gt=0)
    years: int = Field(3, ge=1, le=10)


@register
class SchemePublished(Event):
    """Full state of a scheme (keyed by scheme id; the newest `version` wins). Kept by every
    node below the owner: their cadres nominate for it. Reviewers and veto officers are staff
    of the owner's node and stay there."""

    ce_type = "bigschool.awards.scheme_published.v1"

    scheme_id: str
    owner_org: OrgId
    kind: SchemeKind
    title: str = Field(max_length=200)
    description: str = Field("", max_length=4000)
    nominee: NomineeKind = "member"
    criteria: Criteria = Field(default_factory=Criteria)
    endorse_levels: list[OrgLevel] = Field(
        default_factory=list,
        description="Levels between the nominee's grassroots org and the owner that endorse.",
    )
    quotas: list[Quota] = Field(default_factory=list)
    veto_departments: list[str] = Field(default_factory=list)
    notice_days: int = Field(7, ge=1, le=60)
    benefits: list[Benefit] = Field(default_factory=list)
    budget_fen: int = Field(0, ge=0)
    stipend: Stipend | None = None
    version: int = Field(ge=1)
    published_at: datetime

    def subject(self) -> str:
        return self.scheme_id

    def orgs(self) -> list[str]:
        return [self.owner_org]


RoundStatus = Literal["open", "closed", "published"]


@register
class RoundChanged(Event):
    """Full state of one round of a scheme (the annual commendation cycle): opened, closed
    (no more nominations) or published (all results out, in one batch). Keyed by scheme."""

    ce_type = "bigschool.awards.round_changed.v1"

    round_id: str
    scheme_id: str
    owner_org: OrgId
    name: str = Field(max_length=200)
    year: int = Field(ge=2000, le=2200)
    status: RoundStatus
    opens_at: datetime
    deadline: datetime
    changed_at: datetime

    def subject(self) -> str:
        return self.round_id

    def key(self) -> str:
        return self.scheme_id

    def orgs(self) -> list[str]:
        return [self.owner_org]
