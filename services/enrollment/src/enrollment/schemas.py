"""HTTP request and response models (never the ORM models, never the event contracts)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    computed_field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from shared.contracts.events import Language, OrgLevel, QualityArea
from shared.web.fields import DisplayText, Id, OrgId, ShortText, UtcInstant

ProgrammeKind = Literal[
    "training_course",
    "knowledge_contest",
    "speech_contest",
    "lecture",
    "reading_activity",
    "skills_competition",
    "mentoring",
    "fitness_activity",
    "cultural_performance",
    "art_festival",
    "exhibition",
    "online_course",
]


class OrgIn(BaseModel):
    """Register or change an org. Made by an admin of the parent org at the node hosting the
    parent; the federation's top org (no parent) by its own node's admin, once."""

    org_id: OrgId = Field(examples=["hzsteel-rolling"])
    name: DisplayText = Field(max_length=200)
    parent_id: OrgId | None = None
    level: OrgLevel
    hosted_by: OrgId | None = Field(
        None,
        description="The node that will host the org; default this node. Naming another "
        "node admits it, with this org as its root.",
    )


class OrgMoveIn(BaseModel):
    """Put an org under another parent (both hosted by this node)."""

    parent_id: OrgId


class OrgOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    org_id: str
    name: str
    parent_id: str | None
    level: str
    hosted_by: str


class MemberIn(BaseModel):
    home_org: OrgId
    name: DisplayText = Field(max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(None, pattern=r"^\+?[0-9 -]{5,20}$")
    employee_no: ShortText | None = None
    language: Language = "zh"
    # For programmes' eligibility rules; they stay at the home node (never in an event).
    joined_on: date | None = Field(
        None, ge=date(1900, 1, 1), description="The day the member joined their employer."
    )
    skill_grade: int | None = Field(None, ge=1, le=8, description="Vocational grade, 1 to 8.")
    birth_date: date | None = Field(None, ge=date(1900, 1, 1))


class MemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    member_id: str
    home_org: str
    name: str
    email: str | None
    phone: str | None
    employee_no: str | None
    language: str
    joined_on: date | None = None
    skill_grade: int | None = None
    birth_date: date | None = None
    status: str = Field("active", description="`arriving` until the old home hands over.")


class MemberPage(BaseModel):
    """An org's roster, in the order members were registered."""

    items: list[MemberOut]
    next_cursor: str | None


class MemberChangeIn(BaseModel):
    """Change a member's contact data or language: only the fields given change; `null`
    clears an optional one. The member may change their own; their cadre any."""

    model_config = ConfigDict(extra="forbid")

    name: DisplayText | None = Field(None, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(None, pattern=r"^\+?[0-9 -]{5,20}$")
    employee_no: ShortText | None = None
    language: Language | None = None

    @model_validator(mode="after")
    def _something_changes(self) -> MemberChangeIn:
        if not self.model_fields_set:
            raise PydanticCustomError("nothing_to_change", "give at least one field to change")
        for field in ("name", "language"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise PydanticCustomError("required", f"{field} cannot be cleared")
        return self


class TransferIn(BaseModel):
    """Move a member to another grassroots union: one hosted here moves at once; one hosted
    by another node gets a one-time token for its intake."""

    to_org: OrgId


class TransferOut(BaseModel):
    member_id: str
    to_org: str
    to_node: str
    status: Literal["moved", "token_issued"]
    token: str | None = Field(
        None,
        description="Give it to the new union's cadre (on paper or by the member): it is "
        "shown once, only its hash is kept.",
    )
    expires_at: datetime | None = None


class IntakeIn(MemberIn):
    """The new home takes in a member transferred from another node: the token the old home
    gave, and the contact data as the member gives it here."""

    token: str = Field(
        max_length=200,
        pattern=r"^[a-z0-9-]+\.[0-9a-f-]{36}\.[A-Za-z0-9_-]{20,}$",
        description="`<old node>.<member id>.<secret>`, as the old home gave it out.",
    )


class DepartureOut(BaseModel):
    """What remains of a member who left or moved away: no name, no contact data."""

    model_config = ConfigDict(from_attributes=True)

    member_id: str
    reason: str
    moved_to: str | None
    at: datetime


# Where a programme takes place, or where to join it online.
Place = Annotated[DisplayText, StringConstraints(max_length=300)]
OnlineLink = Annotated[DisplayText, StringConstraints(max_length=500, pattern=r"^https?://\S+$")]
KindDetail = Annotated[DisplayText, StringConstraints(max_length=100)]


class ProgrammeEligibility(BaseModel):
    """Who may ask for a seat; the member's home node checks it before the request leaves.
    A member whose record lacks the attribute a rule needs does not meet it."""

    model_config = ConfigDict(from_attributes=True)

    joined_within_months: int | None = Field(
        None, ge=1, le=600, description="New employees only: joined their employer within N months."
    )
    min_skill_grade: int | None = Field(None, ge=1, le=8, description="Vocational grade, 1 to 8.")
    min_age: int | None = Field(None, ge=14, le=100, description="Age in whole years, inclusive.")
    max_age: int | None = Field(None, ge=14, le=100, description="Age in whole years, inclusive.")

    @field_validator("max_age")
    @classmethod
    def _age_range(cls, max_age: int | None, info: ValidationInfo) -> int | None:
        min_age = info.data.get("min_age")
        if max_age is not None and min_age is not None and max_age < min_age:
            raise PydanticCustomError("age_range", "max_age must not be below min_age")
        return max_age


class ProgrammeIn(BaseModel):
    owner_org: OrgId
    title: DisplayText = Field(max_length=300)
    kind: ProgrammeKind
    quality_area: QualityArea
    audience: list[OrgId] | None = Field(
        None, description="Roots of the audience subtrees; default: the owner's whole subtree."
    )
    capacity: int = Field(ge=1, le=1_000_000)
    hours: float = Field(ge=0, le=10_000)
    starts_at: UtcInstant
    ends_at: UtcInstant
    place: Place | None = None
    online_link: OnlineLink | None = Field(None, description="An http(s) URL.")
    kind_detail: KindDetail | None = Field(None, description="e.g. the sub-kind of a course.")
    quotas: dict[OrgId, Annotated[int, Field(ge=0, le=1_000_000)]] = Field(
        default_factory=dict,
        max_length=1000,
        description="At most this many seats for the members of each of these orgs (each "
        "below the owner, inside the audience); a member counts against the nearest one.",
    )
    cost_per_seat_fen: int = Field(
        0, ge=0, le=1_000_000_000, description="What a seat costs the owner's budget, in fen."
    )
    enrollment_closes_at: UtcInstant | None = Field(
        None, description="The cut-off for requests, at or before starts_at."
    )
    requires_approval: bool = Field(
        False, description="The member's grassroots cadre approves before the request leaves."
    )
    eligibility: ProgrammeEligibility | None = None
    offer_hours: int = Field(48, ge=1, le=720, description="How long a freed seat is offered.")
    over_budget: Literal["refuse", "approval"] = Field(
        "refuse", description="A seat the budget cannot pay: refused, or held for approval."
    )

    @field_validator("enrollment_closes_at")
    @classmethod
    def _cut_off(cls, closes_at: datetime | None, info: ValidationInfo) -> datetime | None:
        starts_at = info.data.get("starts_at")
        if closes_at is not None and starts_at is not None and closes_at > starts_at:
            raise PydanticCustomError("cut_off", "enrollment_closes_at must not be after starts_at")
        return closes_at

    @model_validator(mode="after")
    def _dates(self) -> ProgrammeIn:
        # Our own error type: its message is safe to show (see shared.web.problems).
        if self.ends_at < self.starts_at:
            raise PydanticCustomError("date_order", "ends_at must not be before starts_at")
        return self


class ProgrammeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    programme_id: str
    owner_org: str
    owner_node: str
    title: str
    kind: str
    quality_area: str
    audience: list[str]
    capacity: int
    hours: float
    starts_at: datetime
    ends_at: datetime
    place: str | None = None
    online_link: str | None = None
    kind_detail: str | None = None
    quotas: dict[str, int] = Field(default_factory=dict)
    cost_per_seat_fen: int = 0
    enrollment_closes_at: datetime | None = None
    requires_approval: bool = False
    eligibility: ProgrammeEligibility | None = None
    offer_hours: int = 48
    over_budget: str = "refuse"


class ProgrammePage(BaseModel):
    items: list[ProgrammeOut]
    next_cursor: str | None


class EnrollmentIn(BaseModel):
    programme_id: Id
    member_id: Id | None = Field(
        None, description="Only for a cadre enrolling a member of their org; members omit it."
    )


class EnrollmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias="enrollment_id")
    programme_id: str
    member_id: str
    status: str
    sequence: int | None = None
    reason: str | None = None
    requested_at: datetime
    decided_at: datetime | None = None
    approval_note: str | None = Field(
        None, description="What the grassroots cadre said when approving or rejecting."
    )
    position: int | None = Field(None, description="Place in the waitlist, 1 = next in line.")
    offer_expires_at: datetime | None = Field(None, description="An offered seat's deadline.")
    hours: float | None = None
    score: float | None = None
    rank: int | None = None
    completed_at: datetime | None = None


MAX_FUND_FEN = 10**15  # ten trillion yuan: far above any union's fund, far below an overflow


class BudgetIn(BaseModel):
    """An org's training budget for one year: its union fund and the education share."""

    union_fund_fen: int = Field(
        ge=0, le=MAX_FUND_FEN, description="The org's yearly union fund, in fen (1 yuan = 100)."
    )
    education_share_bp: int = Field(
        ge=0,
        le=10_000,
        description="The share reserved for worker education and training, in basis points "
        "(10000 = 100 %).",
    )


class BudgetOut(BaseModel):
    """Amounts in fen. available = union_fund * share / 10000 (rounded down); left =
    available - committed - spent. An org without a budget for the year shows zeros."""

    org_id: str
    year: int
    union_fund_fen: int
    education_share_bp: int
    available: int
    committed: int
    spent: int
    left: int
    updated_at: datetime | None = None


class BudgetSubtreeOut(BaseModel):
    """The org's and its descendants' budgets at this node, summed (amounts in fen)."""

    org_id: str
    year: int
    node: str = Field(description="Covers the orgs of the subtree hosted at this node.")
    orgs: int = Field(description="How many of them have a budget for the year.")
    union_fund_fen: int
    available: int
    committed: int
    spent: int
    left: int


class ApprovalIn(BaseModel):
    """The grassroots cadre's decision on a request that needs approval."""

    approve: bool
    reason: Annotated[DisplayText, StringConstraints(max_length=500)] | None = Field(
        None, description="Why (shown to the member); for a rejection above all."
    )


class ApprovalOut(BaseModel):
    """A request awaiting (or given) the grassroots cadre's approval, at the home node."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias="enrollment_id")
    programme_id: str
    programme_title: str | None = None
    member_id: str
    member_name: str | None = None
    home_org: str
    status: str
    requested_at: datetime
    approval_at: datetime | None = None
    approval_note: str | None = None


class ApprovalPage(BaseModel):
    items: list[ApprovalOut]
    next_cursor: str | None


class EnrollmentPage(BaseModel):
    items: list[EnrollmentOut]
    next_cursor: str | None


class SeatOut(BaseModel):
    """A seat as the programme's owner sees it: the display name the request brought, never
    contact data."""

    model_config = ConfigDict(from_attributes=True)

    enrollment_id: str
    member_id: str
    display_name: str | None
    home_org: str
    status: str
    sequence: int
    position: int | None = Field(None, description="Waitlist position, 1 = next in line.")
    offer_expires_at: datetime | None = None
    score: float | None = None
    rank: int | None = None
    decided_at: datetime


class SeatPage(BaseModel):
    items: list[SeatOut]
    next_cursor: str | None


class AttendanceIn(BaseModel):
    enrollment_ids: list[Id] = Field(min_length=1, max_length=200)
    attended: bool = Field(description="true: attended; false: did not come (no-show).")


class CompletionIn(BaseModel):
    score: float | None = Field(None, ge=0, le=100_000)
    rank: int | None = Field(None, ge=1)


class ReasonIn(BaseModel):
    reason: DisplayText = Field(max_length=500)


class ProgrammeChangeIn(BaseModel):
    """What the owner may change; every field left out stays as it is."""

    title: DisplayText | None = Field(None, max_length=300)
    place: Place | None = None
    online_link: OnlineLink | None = None
    capacity: int | None = Field(None, ge=1, le=1_000_000)
    starts_at: UtcInstant | None = None
    ends_at: UtcInstant | None = None
    enrollment_closes_at: UtcInstant | None = None


# -- learning records and certificates (api/learning.py, api/certificates.py) -----------------


class CompletionOut(BaseModel):
    enrollment_id: str
    programme_id: str
    programme_title: str
    programme_kind: str
    quality_area: QualityArea
    hours: float
    score: float | None
    rank: int | None
    completed_at: datetime
    completed_on: date = Field(description="The completion's date in the federation's zone.")
    certificate_id: str | None = Field(description="Its valid certificate, if it has one.")


class LearningRecordOut(BaseModel):
    """One year of a member's learning record (the calendar year in the federation's zone).
    Revoked completions are not in it."""

    member_id: str
    year: int
    hours_by_quality_area: dict[QualityArea, float]
    total_hours: float
    completions_count: int
    completions: list[CompletionOut]


class CertificateOut(BaseModel):
    certificate_id: str
    enrollment_id: str
    programme_id: str
    programme_title: str
    quality_area: QualityArea
    hours: float
    completed_on: date
    issued_at: datetime
    revoked_at: datetime | None
    valid: bool
    verification_code: str
    verification_url: str = Field(description="Public: answers without a token.")
    pdf_url: str


class CertificatePage(BaseModel):
    items: list[CertificateOut]
    next_cursor: str | None


class CertificateVerificationOut(BaseModel):
    """What anyone holding the code learns: no contact data, no member id."""

    holder_display_name: str | None
    programme_title: str
    completion_date: date
    valid: bool
    revoked_at: datetime | None


class BudgetApprovalIn(BaseModel):
    approve: bool = Field(
        description="true: the seat is confirmed (the budget must be able to pay it by now); "
        "false: it is refused as budget_exhausted."
    )


class RosterImportOut(BaseModel):
    """A roster import job: its progress, and at the end how many rows are in and how many
    are reported in `errors.csv` (line, column, reason)."""

    model_config = ConfigDict(from_attributes=True)

    job_id: str
    org: str = Field(validation_alias="org_scope")
    status: Literal["queued", "running", "done", "failed"]
    file_format: str
    encoding: str | None
    total: int = Field(description="Rows in the file (blank rows aside).")
    done: int = Field(description="Rows handled so far: imported or reported.")
    good: int = Field(description="Rows imported: new members, changed ones, unchanged ones.")
    errors: int = Field(validation_alias="error_rows", description="Rows reported, not imported.")
    created: int = Field(description="New members.")
    updated: int = Field(description="Known members (org and employee number) that changed.")
    columns: dict[str, str] = Field(description="The columns read, and what the file calls them.")
    ignored_columns: list[str] = Field(description="Header cells that name no known column.")
    created_at: datetime
    finished_at: datetime | None
    failure: str | None = Field(None, description="Why a failed job stopped (an error type).")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def errors_url(self) -> str:
        """The error report: CSV of line, column, reason."""
        return f"/rosters/imports/{self.job_id}/errors.csv"


# -- roll-ups (api/rollups.py) ---------------------------------------------------------------


class RollupGroupOut(BaseModel):
    """A group's figures for the year. A suppressed group (fewer than five members, or one
    that would let such a group be computed from the others) shows `suppressed: true` and
    null figures."""

    suppressed: bool
    orgs: int = Field(description="Orgs in the group (the tree is no secret).")
    members: int | None = None
    participants: int | None = Field(
        None, description="Members with an enrollment that year (not refused or cancelled)."
    )
    participation_rate: float | None = Field(None, description="participants / members")
    hours: dict[QualityArea, float] | None = Field(None, description="Per quality area.")
    hours_per_member: dict[QualityArea, float] | None = Field(
        None, description="Per quality area: hours / members."
    )
    completions: dict[QualityArea, int] | None = Field(None, description="Per quality area.")
    committed_fen: int | None = None
    spent_fen: int | None = None
    as_of: datetime | None = Field(None, description="The newest snapshot summed.")


class RollupRowOut(RollupGroupOut):
    """An org's subtree."""

    org_id: str
    name: str | None
    level: str | None


class RollupOut(RollupRowOut):
    """An org's subtree roll-up at this node."""

    year: int
    node: str
    min_group_size: int


class RollupPage(BaseModel):
    """An org's drill-down: its subtree (`parent`) and a page of its children's subtrees, in
    org id order."""

    org_id: str
    year: int
    node: str
    min_group_size: int
    parent: RollupRowOut
    items: list[RollupRowOut]
    next_cursor: str | None


class RollupLevelOut(RollupGroupOut):
    """The orgs of one level in an org's subtree, summed."""

    level: str


class RollupLevelsOut(BaseModel):
    org_id: str
    year: int
    node: str
    min_group_size: int
    total: RollupRowOut
    levels: list[RollupLevelOut]
