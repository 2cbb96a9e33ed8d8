"""Rationalization proposals at the node hosting the org that evaluates them: the proposal,
its append-only trail of steps, and the reward tier tables of this node's orgs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from awards.models.base import Base
from shared.db import UTCDateTime


class Proposal(Base):
    """A member's proposal. Pseudonymous (`author_id`, never a name): it is the evaluating
    org's record and stays when the author moves or leaves."""

    __tablename__ = "proposals"
    __table_args__ = (
        # The org's list, the author's list, and the figures by submission and by decision.
        Index("ix_proposals_evaluating_org_submitted_at", "evaluating_org", "submitted_at"),
        Index("ix_proposals_author_id_submitted_at", "author_id", "submitted_at"),
        Index("ix_proposals_home_org_submitted_at", "home_org", "submitted_at"),
        Index("ix_proposals_home_org_evaluated_at", "home_org", "evaluated_at"),
    )

    proposal_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    author_id: Mapped[str] = mapped_column(String(36))
    # The author's home org when submitting: the figures count the proposal there.
    home_org: Mapped[str] = mapped_column(String(64))
    evaluating_org: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    problem: Mapped[str] = mapped_column(Text)
    proposal: Mapped[str] = mapped_column(Text)
    expected_benefit: Mapped[str] = mapped_column(Text)
    # A ProposalState value.
    state: Mapped[str] = mapped_column(String(16))
    benefit_fen: Mapped[int | None] = mapped_column(BigInteger)
    reward_fen: Mapped[int | None] = mapped_column(BigInteger)
    honour_id: Mapped[str | None] = mapped_column(String(36))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When it was adopted or rejected: the adoption rate counts it in that month.
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProposalStepRecord(Base):
    """One step of a proposal (the submission included): who, when, why. Rows are only ever
    inserted; `seq` numbers them from 1 under the proposal's row lock."""

    __tablename__ = "proposal_steps"

    proposal_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("proposals.proposal_id"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # A ProposalStep value, and the ProposalState values before and after it.
    step: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    benefit_fen: Mapped[int | None] = mapped_column(BigInteger)
    reward_fen: Mapped[int | None] = mapped_column(BigInteger)


class ProposalTierRow(Base):
    """One tier of an org's reward table; a table is replaced whole, so the rows of one org
    always come from one change (`set_by`, `set_at`)."""

    __tablename__ = "proposal_tiers"

    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    min_benefit_fen: Mapped[int] = mapped_column(BigInteger)
    reward_fen: Mapped[int] = mapped_column(BigInteger)
    rate_bp: Mapped[int | None] = mapped_column(Integer)
    cap_fen: Mapped[int | None] = mapped_column(BigInteger)
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)
