"""Programmes: authoritative at the owner node, copied by every node of the audience."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import Event, register
from shared.contracts.events.common import OrgId, QualityArea


class Eligibility(BaseModel):
    """Who may ask for a seat; the home node checks it before a request leaves."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    joined_within_months: int | None = Field(
        None, ge=1, description="New employees only: joined the company within N months."
    )
    min_skill_grade: int | None = Field(None, ge=1, le=8, description="Vocational grade, 1 to 8.")
    min_age: int | None = Field(None, ge=14, le=100)
    max_age: int | None = Field(None, ge=14, le=100)


@register
class ProgrammePublished(Event):
    """A programme open to the owner's subtree (or chosen sub-orgs). Owner node is authoritative."""

    ce_type = "bigschool.programme.published.v1"

    programme_id: str
    owner_org: OrgId
    owner_node: str
    title: str
    kind: str
    quality_area: QualityArea
    audience: list[OrgId] = Field(description="Roots of the audience subtrees.")
    capacity: int = Field(ge=1)
    hours: float = Field(ge=0)
    starts_at: datetime
    ends_at: datetime
    # Added within v1 (optional, with defaults that mean "as before").
    place: str | None = Field(None, description="Where it takes place, if not online.")
    online_link: str | None = Field(None, description="Where to join, if online.")
    quotas: dict[OrgId, int] = Field(
        default_factory=dict,
        description="At most this many seats for members of each of these sub-orgs.",
    )
    cost_per_seat_fen: int = Field(
        0, ge=0, description="What a seat costs the owner's training budget, in fen."
    )
    enrollment_closes_at: datetime | None = Field(
        None, description="Cut-off: no requests, cancellations by members or offers after it."
    )
    requires_approval: bool = Field(
        False, description="The member's grassroots cadre approves before the request leaves."
    )
    eligibility: Eligibility | None = Field(None, description="Checked by the home node.")
    offer_hours: int = Field(48, ge=1, description="How long a freed seat is offered.")
    over_budget: Literal["refuse", "approval"] = Field(
        "refuse", description="A seat the budget cannot pay: refused, or held for approval."
    )
    kind_detail: str | None = Field(None, description="e.g. the sub-kind of a training course.")

    def subject(self) -> str:
        return self.programme_id

    def orgs(self) -> list[str]:
        return [self.owner_org, *self.audience]


@register
class ProgrammeChanged(ProgrammePublished):
    """The programme's new full state after its owner changed it (dates, place, capacity, …);
    `changed` names the fields. Members holding a seat or a waitlist place are told."""

    ce_type = "bigschool.programme.changed.v1"

    changed: list[str] = Field(default_factory=list)
    changed_at: datetime | None = None


@register
class ProgrammeCancelled(Event):
    """The owner cancelled the programme: every seat and waitlist place ends."""

    ce_type = "bigschool.programme.cancelled.v1"

    programme_id: str
    owner_org: OrgId
    owner_node: str
    audience: list[OrgId]
    reason: str = Field("", max_length=500)
    cancelled_at: datetime

    def subject(self) -> str:
        return self.programme_id

    def orgs(self) -> list[str]:
        return [self.owner_org, *self.audience]


@register
class ProgrammeWaitlistMoved(Event):
    """Waitlist numbers that left the programme's waitlist (offered a seat, or cancelled):
    every node of the audience counts a member's queue position from them, without learning
    whose they were."""

    ce_type = "bigschool.programme.waitlist_moved.v1"

    programme_id: str
    owner_org: OrgId
    audience: list[OrgId]
    left: list[int] = Field(description="Waitlist numbers (1, 2, 3, … in waitlist order).")
    moved_at: datetime

    def subject(self) -> str:
        return self.programme_id

    def orgs(self) -> list[str]:
        return [self.owner_org, *self.audience]


class AreaFigures(BaseModel):
    """Per quality area: hours credited and completions."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    hours: float = Field(0, ge=0)
    completions: int = Field(0, ge=0)


@register
class StatsSnapshot(Event):
    """An org's own figures for one year (not its subtree's: the nodes above add them up),
    as its hosting node counts them. Full state on the compacted stats topic, keyed by
    org and year; `version` grows with every new snapshot of the same key. Counts only —
    never a row about a member."""

    ce_type = "bigschool.stats.snapshot.v1"

    org_id: OrgId
    year: int = Field(ge=2000, le=2100)
    version: int = Field(ge=1)
    level: str
    parent_id: OrgId | None = None
    hosted_by: str
    members: int = Field(0, ge=0)
    participants: int = Field(0, ge=0, description="Members with an enrollment that year.")
    areas: dict[QualityArea, AreaFigures] = Field(default_factory=dict)
    committed_fen: int = Field(0, ge=0)
    spent_fen: int = Field(0, ge=0)
    generated_at: datetime

    def subject(self) -> str:
        return f"{self.org_id}:{self.year}"

    def orgs(self) -> list[str]:
        return [self.org_id]
