"""Nominations: each step is taken at the node that owns it (filing at the nominee's home
node, endorsement at each endorsing org's node, veto checks, review, notice, objections and
the decision at the scheme owner's node) and published on the awards topic keyed by
nomination id. Every step event carries the nomination's full state after the step, so every
node involved keeps the same replica; and the step itself (who, when, why), so the audit
trail can be read back anywhere. Pseudonymous: member ids only. The dossier (display names,
achievements, cited facts) and the public notice's shortlist travel in inbox messages to the
nodes that need them, never on a federation topic."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import Event, register
from shared.contracts.events.common import OrgId
from shared.contracts.events.objections import ObjectionMessage
from shared.contracts.events.schemes import NomineeKind

NominationStatus = Literal[
    "filed",  # at the home node, waiting for the owner to admit it (round, quota)
    "refused",  # the owner did not admit it (round closed, quota full, already nominated)
    "endorsing",  # waiting for the endorsement of stages[stage_index]
    "returned",  # sent back to the home org with reasons; may be corrected and resubmitted
    "veto_check",  # at the owner: the scheme's departments check it
    "vetoed",  # a department vetoed it
    "in_review",  # at the owner: reviewers score it
    "on_notice",  # on the public notice of the shortlist until notice_ends_at
    "withdrawn",  # an objection against it was upheld
    "granted",  # decided and published: the honour is granted
    "rejected",  # decided and published: not granted
]


class NominationState(BaseModel):
    """Where a nomination stands after a step: the same on every node that keeps it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    nomination_id: str
    scheme_id: str
    round_id: str
    owner_org: OrgId
    home_org: OrgId
    nominee: NomineeKind
    member_ids: list[str] = Field(min_length=1, max_length=50)
    team_name: str | None = Field(None, max_length=200)
    stages: list[OrgId] = Field(
        default_factory=list, description="The endorsing orgs, nearest the home org first."
    )
    status: NominationStatus
    stage_index: int = Field(0, ge=0)
    version: int = Field(1, ge=1, description="The dossier's version: +1 on each resubmission.")
    open_objections: int = Field(0, ge=0)
    notice_ends_at: datetime | None = None


class NominationStepEvent(Event):
    """One step of a nomination: its state afterwards, and who took the step, when and why.
    `step` counts the nomination's steps: a replica applies a step only once, in order."""

    state: NominationState
    step: int = Field(ge=1)
    actor: str = Field(max_length=200, description="The staff account (`sub`) that acted.")
    actor_org: OrgId
    at: datetime
    reason: str = Field("", max_length=4000)

    def subject(self) -> str:
        return self.state.nomination_id

    def orgs(self) -> list[str]:
        s = self.state
        return list(dict.fromkeys([s.owner_org, s.home_org, *s.stages]))


@register
class NominationFiled(NominationStepEvent):
    """The home org's cadre nominated (the dossier went to the owner and the endorsers)."""

    ce_type = "bigschool.awards.nomination_filed.v1"


@register
class NominationAdmitted(NominationStepEvent):
    """The owner admitted it into the round (within the round's deadline and the quotas)."""

    ce_type = "bigschool.awards.nomination_admitted.v1"


NominationRefusal = Literal[
    "round_not_open", "deadline_passed", "quota_full", "already_nominated", "unknown_scheme"
]


@register
class NominationRefused(NominationStepEvent):
    """The owner did not admit it into the round; `refusal` says why, `reason` in words."""

    ce_type = "bigschool.awards.nomination_refused.v1"

    refusal: NominationRefusal


@register
class NominationEndorsed(NominationStepEvent):
    """An endorsing org (stages[stage_index] before the step) endorsed it."""

    ce_type = "bigschool.awards.nomination_endorsed.v1"


@register
class NominationReturned(NominationStepEvent):
    """An endorsing org sent it back to the home org with reasons (`reason`)."""

    ce_type = "bigschool.awards.nomination_returned.v1"


@register
class NominationResubmitted(NominationStepEvent):
    """The home org corrected the dossier (a new version) and sent it up again."""

    ce_type = "bigschool.awards.nomination_resubmitted.v1"


@register
class NominationVetoCleared(NominationStepEvent):
    """One of the scheme's veto departments found nothing against it."""

    ce_type = "bigschool.awards.nomination_veto_cleared.v1"

    department: str = Field(max_length=100)


@register
class NominationVetoed(NominationStepEvent):
    """A veto department stopped it; `reason` says why."""

    ce_type = "bigschool.awards.nomination_vetoed.v1"

    department: str = Field(max_length=100)


@register
class NominationReviewed(NominationStepEvent):
    """A reviewer of the owner's panel scored it (0 to 100)."""

    ce_type = "bigschool.awards.nomination_reviewed.v1"

    score: float = Field(ge=0, le=100)


@register
class NominationShortlisted(NominationStepEvent):
    """On the public notice `notice_id` of the round until state.notice_ends_at."""

    ce_type = "bigschool.awards.nomination_shortlisted.v1"

    notice_id: str


@register
class NominationObjected(NominationStepEvent):
    """A member filed an objection (its text stays at the owner and the objector's node)."""

    ce_type = "bigschool.awards.nomination_objected.v1"

    objection_id: str
    objector_org: OrgId

    def orgs(self) -> list[str]:
        return list(dict.fromkeys([*super().orgs(), self.objector_org]))


@register
class NominationObjectionResolved(NominationStepEvent):
    """The owner answered an objection (`reason` is the answer); upheld withdraws it."""

    ce_type = "bigschool.awards.nomination_objection_resolved.v1"

    objection_id: str
    objector_org: OrgId
    upheld: bool

    def orgs(self) -> list[str]:
        return list(dict.fromkeys([*super().orgs(), self.objector_org]))


@register
class NominationDecided(NominationStepEvent):
    """The owner's decision, published with the round's results: granted or rejected."""

    ce_type = "bigschool.awards.nomination_decided.v1"

    decided_by: str = Field(max_length=200)
    decided_at: datetime
    amount_fen: int = Field(0, ge=0)


class Nominee(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    member_id: str
    display_name: str = Field(max_length=200)


class CitedFact(BaseModel):
    """An enrollment fact a dossier cites, with the `ce_id` of the event it came from."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    fact_id: str = Field(description="The ce_id of the enrollment event.")
    member_id: str
    kind: str
    programme_id: str
    programme_title: str
    hours: float = Field(ge=0)
    rank: int | None = None
    occurred_at: datetime
    source_type: str


@register
class NominationDossier(Event):
    """To the inbox of each node that endorses or decides: what the nomination is about. The
    one place a nominee's display name leaves the home node; never contact data."""

    ce_type = "bigschool.awards.nomination_dossier.v1"

    nomination_id: str
    scheme_id: str
    owner_org: OrgId
    home_org: OrgId
    version: int = Field(ge=1)
    nominees: list[Nominee] = Field(min_length=1, max_length=50)
    team_name: str | None = Field(None, max_length=200)
    achievements: str = Field(max_length=10_000)
    cited_facts: list[CitedFact] = Field(default_factory=list, max_length=500)
    training_hours: float = Field(0, ge=0, description="In the round's year, as checked.")
    sent_at: datetime

    def subject(self) -> str:
        return self.nomination_id

    def orgs(self) -> list[str]:
        return [self.owner_org, self.home_org]


class NoticeEntry(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    nomination_id: str
    home_org: OrgId
    nominees: list[Nominee]
    team_name: str | None = None
    achievements: str = Field(max_length=10_000)


@register
class NoticePublished(Event):
    """To the inbox of every node hosting part of the owner's subtree: the shortlist its
    members may read and object to until `ends_at`."""

    ce_type = "bigschool.awards.notice_published.v1"

    notice_id: str
    round_id: str
    scheme_id: str
    scheme_title: str = Field(max_length=200)
    owner_org: OrgId
    starts_at: datetime
    ends_at: datetime
    entries: list[NoticeEntry] = Field(min_length=1, max_length=2000)

    def subject(self) -> str:
        return self.notice_id

    def orgs(self) -> list[str]:
        return [self.owner_org]


@register
class ObjectionSubmitted(ObjectionMessage):
    """To the owner's inbox: a member's objection to a shortlisted nomination, with reasons."""

    ce_type = "bigschool.awards.objection_submitted.v1"

    objection_id: str
    notice_id: str
    nomination_id: str
    owner_org: OrgId
    objector_id: str = Field(description="The objecting member's pseudonymous id.")
    objector_org: OrgId
    reasons: str = Field(max_length=4000)
    submitted_at: datetime


ObjectionStatus = Literal["open", "upheld", "dismissed"]
