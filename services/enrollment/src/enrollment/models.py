"""SQLAlchemy tables of the enrollment service (its own database per node)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime, new_metadata
from shared.messaging.tables import messaging_tables
from shared.orgs.directory import org_table
from shared.web.idempotency import idempotency_table


class Base(DeclarativeBase):
    metadata = new_metadata()


MESSAGING = messaging_tables(Base.metadata)
ORGS = org_table(Base.metadata)
IDEMPOTENCY_KEYS = idempotency_table(Base.metadata)


HAS_EMPLOYEE_NO = text("employee_no IS NOT NULL")


class Member(Base):
    """A member's personal record: lives only at the home org's node."""

    __tablename__ = "members"
    __table_args__ = (
        # The natural key of a roster import: employee number within the org (migration 0008).
        Index(
            "uq_members_employee_no",
            "home_org",
            "employee_no",
            unique=True,
            sqlite_where=HAS_EMPLOYEE_NO,
            postgresql_where=HAS_EMPLOYEE_NO,
        ),
        # An org's roster page by page, in the order members were registered (migration 0011).
        Index("ix_members_org_created", "home_org", "created_at", "member_id"),
    )

    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    home_org: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    employee_no: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # For programmes' eligibility rules (migration 0005); personal: never in an event.
    joined_on: Mapped[date | None] = mapped_column(Date)  # joined the employer
    skill_grade: Mapped[int | None] = mapped_column(Integer)  # vocational grade 1-8
    birth_date: Mapped[date | None] = mapped_column(Date)
    # MemberStatus (migration 0010): `arriving` while the old home hands a transfer over.
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")


class MemberTransfer(Base):
    """A transfer to a union hosted by another node, until the new home takes the member in:
    only the token's hash is kept (migration 0010). One open transfer per member."""

    __tablename__ = "member_transfers"

    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    from_org: Mapped[str] = mapped_column(String(64))
    to_org: Mapped[str] = mapped_column(String(64))
    to_node: Mapped[str] = mapped_column(String(64))
    token_sha256: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DepartedMember(Base):
    """All that remains of a member who left the union or moved to another node: no name, no
    contact data (migration 0010). Their pseudonymous history stays where it is."""

    __tablename__ = "departed_members"

    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))  # DepartureReason
    moved_to: Mapped[str | None] = mapped_column(String(64))  # the new home org
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Programme(Base):
    """A programme: authoritative at its owner node, a read-only copy elsewhere."""

    __tablename__ = "programmes"

    programme_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner_org: Mapped[str] = mapped_column(String(64), index=True)
    owner_node: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(64))
    quality_area: Mapped[str] = mapped_column(String(32))
    audience: Mapped[list[str]] = mapped_column(JSON)
    capacity: Mapped[int] = mapped_column(Integer)
    hours: Mapped[float] = mapped_column(Float)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str | None] = mapped_column(String(300))
    online_link: Mapped[str | None] = mapped_column(String(500))
    kind_detail: Mapped[str | None] = mapped_column(String(100))
    quotas: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, server_default="{}")
    cost_per_seat_fen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    enrollment_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    eligibility: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    offer_hours: Mapped[int] = mapped_column(Integer, default=48, server_default="48")
    over_budget: Mapped[str] = mapped_column(String(16), default="refuse", server_default="refuse")
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Owner-side counters, changed only under the programme's row lock: seats taken
    # (confirmed, offered and later), per quota org, the next decision and waitlist numbers.
    confirmed_count: Mapped[int] = mapped_column(Integer, default=0)
    quota_used: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, server_default="{}")
    next_sequence: Mapped[int] = mapped_column(Integer, default=1)
    waitlist_next: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


ACTIVE_SEAT = text("status <> 'cancelled'")
ACTIVE_ENROLLMENT = text("status NOT IN ('refused', 'rejected', 'cancelled')")


class Seat(Base):
    """The owner's decision on one enrollment request: pseudonymous (member_id), with the
    display name the request brought for the participant list."""

    __tablename__ = "seats"
    __table_args__ = (
        # One active seat per member and programme (migration 0004).
        Index(
            "uq_seats_active",
            "programme_id",
            "member_id",
            unique=True,
            sqlite_where=ACTIVE_SEAT,
            postgresql_where=ACTIVE_SEAT,
        ),
    )

    enrollment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    programme_id: Mapped[str] = mapped_column(String(36), index=True)
    member_id: Mapped[str] = mapped_column(String(36))
    home_org: Mapped[str] = mapped_column(String(64))
    home_node: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    sequence: Mapped[int] = mapped_column(Integer)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    quota_org: Mapped[str | None] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(200))
    waitlist_number: Mapped[int | None] = mapped_column(Integer)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    cost_fen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    score: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Enrollment(Base):
    """The member's side of an enrollment, at the home node: what the member polls."""

    __tablename__ = "enrollments"
    __table_args__ = (
        # One active enrollment per member and programme (migrations 0003, 0004).
        Index(
            "uq_enrollments_active",
            "programme_id",
            "member_id",
            unique=True,
            sqlite_where=ACTIVE_ENROLLMENT,
            postgresql_where=ACTIVE_ENROLLMENT,
        ),
        # A grassroots org's pending approvals, oldest first (migration 0005).
        Index(
            "ix_enrollments_approval_queue", "home_org", "status", "requested_at", "enrollment_id"
        ),
    )

    enrollment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    programme_id: Mapped[str] = mapped_column(String(36), index=True)
    member_id: Mapped[str] = mapped_column(String(36), index=True)
    home_org: Mapped[str] = mapped_column(String(64))
    owner_node: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    sequence: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waitlist_number: Mapped[int | None] = mapped_column(Integer)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hours: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    link_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The grassroots cadre's approval decision (migration 0005): when, who (token subject),
    # and the note given with it (a rejection's reason).
    approval_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approval_by: Mapped[str | None] = mapped_column(String(200))
    approval_note: Mapped[str | None] = mapped_column(String(500))


class WaitlistDeparture(Base):
    """A waitlist number that left the waitlist (offered or cancelled): a member's queue
    position is their number minus the numbers below it that left."""

    __tablename__ = "waitlist_departures"

    programme_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)


class Budget(Base):
    """An org's training budget for one year (the federation zone's calendar year), at the
    node hosting the org: the owner of a programme pays its seats. Amounts in fen."""

    __tablename__ = "budgets"
    __table_args__ = (
        # The domain keeps these; the database refuses anything else too (migration 0007).
        CheckConstraint(
            "union_fund_fen >= 0 AND committed_fen >= 0 AND spent_fen >= 0", name="amounts"
        ),
        CheckConstraint("education_share_bp BETWEEN 0 AND 10000", name="share"),
    )

    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    union_fund_fen: Mapped[int] = mapped_column(BigInteger)
    education_share_bp: Mapped[int] = mapped_column(Integer)
    committed_fen: Mapped[int] = mapped_column(BigInteger)
    spent_fen: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


VALID_CERTIFICATE = text("revoked_at IS NULL")


class LearningRecord(Base):
    """One completion on a member's learning record, at the home node (migration 0006):
    built from `enrollment.completed` events, never from the owner's database. `year` is
    the calendar year of `completed_at` in the federation zone; a revoked row stays (for the
    record) but no longer counts."""

    __tablename__ = "learning_records"
    __table_args__ = (
        Index("ix_learning_records_member_year", "member_id", "year"),
        # An org's figures for a year, summed for its roll-up snapshot (migration 0009).
        Index("ix_learning_records_home_org_year", "home_org", "year"),
    )

    enrollment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36))
    home_org: Mapped[str] = mapped_column(String(64))
    owner_org: Mapped[str] = mapped_column(String(64))
    programme_id: Mapped[str] = mapped_column(String(36))
    programme_title: Mapped[str] = mapped_column(String(300))
    programme_kind: Mapped[str] = mapped_column(String(64))
    quality_area: Mapped[str] = mapped_column(String(32))
    hours: Mapped[float] = mapped_column(Float)
    score: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    year: Mapped[int] = mapped_column(Integer)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ce_id: Mapped[str] = mapped_column(String(36))  # the completion event it came from
    revoked_ce_id: Mapped[str | None] = mapped_column(String(36))


class Certificate(Base):
    """The certificate of a completion. At most one valid certificate per enrollment; a
    revoked one stays revoked (a completion recorded again gets a new certificate and code).
    The verification code is public on the printed certificate, never on a topic."""

    __tablename__ = "certificates"
    __table_args__ = (
        Index(
            "uq_certificates_valid",
            "enrollment_id",
            unique=True,
            sqlite_where=VALID_CERTIFICATE,
            postgresql_where=VALID_CERTIFICATE,
        ),
        # A member's certificates, newest first (cursor pages).
        Index("ix_certificates_member_issued", "member_id", "issued_at", "certificate_id"),
    )

    certificate_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    enrollment_id: Mapped[str] = mapped_column(String(36))
    member_id: Mapped[str] = mapped_column(String(36))
    verification_code: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RosterImport(Base):
    """A roster import job (migration 0008): the file was read and checked at upload; its rows
    wait in `roster_import_chunks` and a worker of the service takes them chunk by chunk, each
    chunk one transaction with its members, events, errors and `done`."""

    __tablename__ = "roster_imports"
    __table_args__ = (Index("ix_roster_imports_status", "status", "created_at"),)

    job_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_scope: Mapped[str] = mapped_column(String(64))  # the org the import was made for
    created_by: Mapped[str] = mapped_column(String(200))  # token subject
    created_by_org: Mapped[str] = mapped_column(String(64))
    file_format: Mapped[str] = mapped_column(String(8))  # csv | xlsx
    encoding: Mapped[str | None] = mapped_column(String(16))
    columns: Mapped[dict[str, str]] = mapped_column(JSON)  # column -> the file's header text
    ignored_columns: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # queued | running | done | failed
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    good: Mapped[int] = mapped_column(Integer, default=0)
    error_rows: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    failure: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RosterImportChunk(Base):
    """Rows of a job not imported yet, as read from the file ({line, cells, errors}). A chunk
    is deleted in the transaction that imports it: once a job ends, none of its contact data
    is left here."""

    __tablename__ = "roster_import_chunks"

    job_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    chunk_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class RosterImportError(Base):
    """One reason a row was not imported: its line, the column, the reason (never the value)."""

    __tablename__ = "roster_import_errors"

    job_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    column: Mapped[str] = mapped_column(String(32), primary_key=True)
    reason: Mapped[str] = mapped_column(String(200))


# -- roll-ups (migration 0009) ------------------------------------------------------------------
# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
_MARK_ID = BigInteger().with_variant(Integer(), "sqlite")


class StatsDirty(Base):
    """An org's figures for a year changed and are not published yet (service/stats_marks.py).
    Marks are appended (one per transaction and key), never updated: a change never waits on
    another transaction's mark, and the publisher deletes exactly the marks it has seen."""

    __tablename__ = "stats_dirty"
    __table_args__ = (Index("ix_stats_dirty_key", "org_id", "year"),)

    mark_id: Mapped[int] = mapped_column(_MARK_ID, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)


class StatsPublished(Base):
    """The figures last published for an org this node hosts and a year: to publish only a
    change, with the next version."""

    __tablename__ = "stats_published"

    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatsSnapshotRow(Base):
    """The latest snapshot (`bigschool.stats.snapshot.v1`) of an org whose ancestor-or-self this
    node hosts: an org's own figures for a year — counts, never a row about a member. Quality
    areas are columns, so that a subtree is summed by one scan."""

    __tablename__ = "stats_snapshots"

    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[str | None] = mapped_column(String(64))
    hosted_by: Mapped[str] = mapped_column(String(64))
    members: Mapped[int] = mapped_column(BigInteger)
    participants: Mapped[int] = mapped_column(BigInteger)
    hours_ethics: Mapped[float] = mapped_column(Float)
    completions_ethics: Mapped[int] = mapped_column(BigInteger)
    hours_science_culture: Mapped[float] = mapped_column(Float)
    completions_science_culture: Mapped[int] = mapped_column(BigInteger)
    hours_technical_skills: Mapped[float] = mapped_column(Float)
    completions_technical_skills: Mapped[int] = mapped_column(BigInteger)
    hours_safety_health: Mapped[float] = mapped_column(Float)
    completions_safety_health: Mapped[int] = mapped_column(BigInteger)
    committed_fen: Mapped[int] = mapped_column(BigInteger)
    spent_fen: Mapped[int] = mapped_column(BigInteger)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
