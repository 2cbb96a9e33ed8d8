"""Enrollments: keyed by programme id (the owner decides a programme's seats in order);
`ce_subject` is the enrollment id. Federation events carry the pseudonymous `member_id` only;
a display name travels only in a request addressed to the owner's inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.contracts.base import Event, register
from shared.contracts.events.common import OrgId, QualityArea


@register
class EnrollmentRequested(Event):
    """Sent to the programme owner's inbox; the owner decides. No name, no contact data."""

    ce_type = "bigschool.enrollment.requested.v1"

    enrollment_id: str
    programme_id: str
    member_id: str
    home_org: OrgId
    home_node: str
    requested_at: datetime
    display_name: str | None = Field(
        None, description="For the owner's participant list: this request goes to one node."
    )

    def subject(self) -> str:
        return self.enrollment_id

    def key(self) -> str:
        return self.programme_id

    def orgs(self) -> list[str]:
        return [self.home_org]


class _EnrollmentDecision(Event):
    enrollment_id: str
    programme_id: str
    member_id: str
    owner_org: OrgId
    home_org: OrgId
    decided_at: datetime

    def subject(self) -> str:
        return self.enrollment_id

    def key(self) -> str:
        return self.programme_id

    def orgs(self) -> list[str]:
        return [self.owner_org, self.home_org]


@register
class EnrollmentConfirmed(_EnrollmentDecision):
    """The owner gave the member a seat. `sequence` is the owner's decision order."""

    ce_type = "bigschool.enrollment.confirmed.v1"

    sequence: int = Field(ge=1)
    programme_title: str = ""
    hours: float = Field(0, ge=0)
    quality_area: QualityArea | None = None


@register
class EnrollmentWaitlisted(_EnrollmentDecision):
    """No seat left: the member waits. `sequence` is the owner's decision order, shared with
    confirmations: waitlisted members are promoted in increasing `sequence`."""

    ce_type = "bigschool.enrollment.waitlisted.v1"

    sequence: int = Field(ge=1)
    programme_title: str = ""
    waitlist_number: int | None = Field(
        None, ge=1, description="Place in the waitlist when it joined (1 = first)."
    )


@register
class EnrollmentRefused(_EnrollmentDecision):
    """The owner refused the request, with a machine-readable reason."""

    ce_type = "bigschool.enrollment.refused.v1"

    reason: Literal["already_enrolled", "unknown_programme", "not_in_audience", "closed"]
    programme_title: str = ""


class _EnrollmentFact(Event):
    """What every later step of an enrollment carries: whose, for which programme."""

    enrollment_id: str
    programme_id: str
    member_id: str
    owner_org: OrgId
    home_org: OrgId

    def subject(self) -> str:
        return self.enrollment_id

    def key(self) -> str:
        return self.programme_id

    def orgs(self) -> list[str]:
        return [self.owner_org, self.home_org]


RefusalReason = Literal[
    "already_enrolled",
    "unknown_programme",
    "not_in_audience",
    "closed",
    "quota_full",
    "budget_exhausted",
    "cutoff_passed",
    "programme_cancelled",
]


@register
class EnrollmentRefusedV2(_EnrollmentFact):
    """The owner refused the request. v2 has more reasons than v1; the owner publishes v1 as
    well while its reason is one v1 knows."""

    ce_type = "bigschool.enrollment.refused.v2"

    reason: RefusalReason
    decided_at: datetime
    programme_title: str = ""


@register
class EnrollmentAwaitingBudget(_EnrollmentFact):
    """The owner's training budget cannot pay the seat and the programme says so: the seat is
    held until the owner's cadre decides (confirmed, or refused as budget_exhausted)."""

    ce_type = "bigschool.enrollment.awaiting_budget.v1"

    sequence: int = Field(ge=1)
    decided_at: datetime
    programme_title: str = ""


@register
class EnrollmentPendingApproval(_EnrollmentFact):
    """At the home node: the programme needs the grassroots cadre's approval first."""

    ce_type = "bigschool.enrollment.pending_approval.v1"

    requested_at: datetime


@register
class EnrollmentApproved(_EnrollmentFact):
    """The member's grassroots cadre approved: the request goes to the owner."""

    ce_type = "bigschool.enrollment.approved.v1"

    approved_at: datetime


@register
class EnrollmentRejected(_EnrollmentFact):
    """The member's grassroots cadre rejected: the request never reaches the owner."""

    ce_type = "bigschool.enrollment.rejected.v1"

    rejected_at: datetime
    reason: str = Field("", max_length=500)


@register
class EnrollmentCancellationRequested(_EnrollmentFact):
    """To the owner's inbox: the member (or their cadre) gives the seat or place up."""

    ce_type = "bigschool.enrollment.cancellation_requested.v1"

    requested_at: datetime
    by: Literal["member", "cadre"]


@register
class EnrollmentOfferAccepted(_EnrollmentFact):
    """To the owner's inbox: the member takes the seat offered to them."""

    ce_type = "bigschool.enrollment.offer_accepted.v1"

    accepted_at: datetime


@register
class EnrollmentCancelled(_EnrollmentFact):
    """The seat or waitlist place is given up; `was` is the status it had."""

    ce_type = "bigschool.enrollment.cancelled.v1"

    cancelled_at: datetime
    by: Literal["member", "cadre", "owner", "programme_cancelled"]
    was: str


@register
class EnrollmentOffered(_EnrollmentFact):
    """A freed seat is offered to the first in the waitlist, until `offer_expires_at`."""

    ce_type = "bigschool.enrollment.offered.v1"

    sequence: int = Field(ge=1)
    offered_at: datetime
    offer_expires_at: datetime
    programme_title: str = ""


@register
class EnrollmentOfferExpired(_EnrollmentFact):
    """The offer was not taken in time: the seat passes to the next in line."""

    ce_type = "bigschool.enrollment.offer_expired.v1"

    expired_at: datetime


@register
class EnrollmentAttended(_EnrollmentFact):
    """The owner's cadre recorded the member's attendance."""

    ce_type = "bigschool.enrollment.attended.v1"

    attended_at: datetime


@register
class EnrollmentNoShow(_EnrollmentFact):
    """The member held a seat and did not come."""

    ce_type = "bigschool.enrollment.no_show.v1"

    recorded_at: datetime


@register
class EnrollmentCompleted(_EnrollmentFact):
    """The member completed the programme: hours for the learning record, and a result for
    contests and competitions."""

    ce_type = "bigschool.enrollment.completed.v1"

    completed_at: datetime
    hours: float = Field(ge=0)
    quality_area: QualityArea
    programme_title: str
    programme_kind: str
    programme_ends_at: datetime
    score: float | None = None
    rank: int | None = Field(None, ge=1)


@register
class EnrollmentCompletionRevoked(_EnrollmentFact):
    """A completion recorded in error: the hours leave the record, the certificate is void."""

    ce_type = "bigschool.enrollment.completion_revoked.v1"

    revoked_at: datetime
    reason: str = Field("", max_length=500)


@register
class CertificateIssued(_EnrollmentFact):
    """The home node issued the certificate of a completion (verifiable publicly)."""

    ce_type = "bigschool.certificate.issued.v1"

    certificate_id: str
    issued_at: datetime


@register
class CertificateRevoked(_EnrollmentFact):
    """A certificate is no longer valid."""

    ce_type = "bigschool.certificate.revoked.v1"

    certificate_id: str
    revoked_at: datetime
