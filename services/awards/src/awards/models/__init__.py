"""SQLAlchemy tables of the awards service, one module per aggregate, all re-exported here
(importing the package registers every table on `Base.metadata`)."""

from awards.models.base import IDEMPOTENCY_KEYS, MESSAGING, ORGS, Base
from awards.models.facts import EligibilityFact
from awards.models.honours import Honour
from awards.models.members import MemberReplica
from awards.models.nominations import (
    Dossier,
    Nomination,
    NominationMember,
    NominationStep,
    QuotaUse,
    Review,
    VetoCheck,
)
from awards.models.notices import Grant, Notice, NoticeEntry, Objection
from awards.models.proposals import Proposal, ProposalStepRecord, ProposalTierRow
from awards.models.rewards import Reward, RewardQuota, RewardQuotaUsage
from awards.models.schemes import Round, Scheme, SchemeStaff
from awards.models.stipends import StipendPayment, StipendSchedule

__all__ = [
    "IDEMPOTENCY_KEYS",
    "MESSAGING",
    "ORGS",
    "Base",
    "Dossier",
    "EligibilityFact",
    "Grant",
    "Honour",
    "MemberReplica",
    "Nomination",
    "NominationMember",
    "NominationStep",
    "Notice",
    "NoticeEntry",
    "Objection",
    "Proposal",
    "ProposalStepRecord",
    "ProposalTierRow",
    "QuotaUse",
    "Review",
    "Reward",
    "RewardQuota",
    "RewardQuotaUsage",
    "Round",
    "Scheme",
    "SchemeStaff",
    "StipendPayment",
    "StipendSchedule",
    "VetoCheck",
]
