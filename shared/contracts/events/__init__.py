"""Versioned event models, one module per aggregate, all re-exported here. Past-tense names;
within a version only optional fields may be added (`python -m shared.contracts.compat`); a
breaking change is a new `.vN` type published side by side.

Federation events carry the pseudonymous `member_id` only: contact data travels on the
node-local members topic and nowhere else.
"""

from shared.contracts.events.awards import HonourEntry, HonoursTransferred
from shared.contracts.events.common import Language, OrgId, OrgLevel, QualityArea
from shared.contracts.events.enrollments import (
    CertificateIssued,
    CertificateRevoked,
    EnrollmentApproved,
    EnrollmentAttended,
    EnrollmentAwaitingBudget,
    EnrollmentCancellationRequested,
    EnrollmentCancelled,
    EnrollmentCompleted,
    EnrollmentCompletionRevoked,
    EnrollmentConfirmed,
    EnrollmentNoShow,
    EnrollmentOfferAccepted,
    EnrollmentOffered,
    EnrollmentOfferExpired,
    EnrollmentPendingApproval,
    EnrollmentRefused,
    EnrollmentRefusedV2,
    EnrollmentRejected,
    EnrollmentRequested,
    EnrollmentWaitlisted,
    RefusalReason,
)
from shared.contracts.events.members import (
    CarriedEnrollment,
    LearningEntry,
    MemberLeft,
    MemberRegistered,
    MemberTransferAccepted,
    MemberTransferred,
    MemberTransferRefused,
)
from shared.contracts.events.orgs import OrgRegistered
from shared.contracts.events.programmes import (
    AreaFigures,
    Eligibility,
    ProgrammeCancelled,
    ProgrammeChanged,
    ProgrammePublished,
    ProgrammeWaitlistMoved,
    StatsSnapshot,
)

__all__ = [
    "AreaFigures",
    "CarriedEnrollment",
    "CertificateIssued",
    "CertificateRevoked",
    "Eligibility",
    "EnrollmentApproved",
    "EnrollmentAttended",
    "EnrollmentAwaitingBudget",
    "EnrollmentCancellationRequested",
    "EnrollmentCancelled",
    "EnrollmentCompleted",
    "EnrollmentCompletionRevoked",
    "EnrollmentConfirmed",
    "EnrollmentNoShow",
    "EnrollmentOfferAccepted",
    "EnrollmentOfferExpired",
    "EnrollmentOffered",
    "EnrollmentPendingApproval",
    "EnrollmentRefused",
    "EnrollmentRefusedV2",
    "EnrollmentRejected",
    "EnrollmentRequested",
    "EnrollmentWaitlisted",
    "HonourEntry",
    "HonoursTransferred",
    "Language",
    "LearningEntry",
    "MemberLeft",
    "MemberRegistered",
    "MemberTransferAccepted",
    "MemberTransferRefused",
    "MemberTransferred",
    "OrgId",
    "OrgLevel",
    "OrgRegistered",
    "ProgrammeCancelled",
    "ProgrammeChanged",
    "ProgrammePublished",
    "ProgrammeWaitlistMoved",
    "QualityArea",
    "RefusalReason",
    "StatsSnapshot",
]
