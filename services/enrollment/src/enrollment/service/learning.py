"""Home node: completions become the member's learning record and a certificate.

Built from the events only (never by reading the owner's database). The owner node, and
nodes above, see the same events for members hosted elsewhere: those are left alone. The
consumer machinery drops a redelivered event (same `ce_id`); on top of that an enrollment
never gets a second valid certificate.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import learning_repository as repo
from enrollment.domain.learning import federation_year, new_verification_code
from enrollment.models import Certificate, LearningRecord
from enrollment.service.context import Context
from enrollment.service.stats_marks import mark_dirty
from shared.contracts import topics
from shared.contracts.base import Event
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
    CertificateIssued,
    CertificateRevoked,
    EnrollmentCompleted,
    EnrollmentCompletionRevoked,
)

_FACTS = (EnrollmentCompleted, EnrollmentCompletionRevoked)


async def preload_learning(session: AsyncSession, events: Sequence[Event]) -> None:
    """Once per polled batch: the records and valid certificates the events are about."""
    ids = [e.enrollment_id for e in events if isinstance(e, _FACTS)]
    if ids:
        await repo.preload_learning(session, ids)


async def record_completion(
    session: AsyncSession, ctx: Context, event: EnrollmentCompleted, envelope: Envelope
) -> None:
    """The completion goes on the member's record, and its certificate is issued.

    A later completion of the same enrollment (a corrected result) replaces the record's
    figures and keeps its valid certificate; one recorded again after a revocation counts
    again and gets a new certificate (the revoked one stays revoked)."""
    if not await ctx.orgs.hosts(event.home_org, session):
        return  # another node's member: their home node keeps their record
    record = await repo.get_record(session, event.enrollment_id)
    if record is None:
        record = LearningRecord(enrollment_id=event.enrollment_id)
        repo.add_record(session, record)
    else:  # a corrected completion may move to another year: the old one changes too
        mark_dirty(session, record.home_org, record.year)
    _copy_completion(record, event, envelope.id, ctx.settings.federation_timezone)
    mark_dirty(session, record.home_org, record.year)  # the org's hours and completions
    if await repo.valid_certificate(session, event.enrollment_id) is None:
        await issue_certificate(session, ctx, record)


def _copy_completion(
    record: LearningRecord, event: EnrollmentCompleted, ce_id: str, zone: str
) -> None:
    record.member_id = event.member_id
    record.home_org = event.home_org
    record.owner_org = event.owner_org
    record.programme_id = event.programme_id
    record.programme_title = event.programme_title
    record.programme_kind = event.programme_kind
    record.quality_area = event.quality_area.value
    record.hours = event.hours
    record.score = event.score
    record.rank = event.rank
    record.completed_at = event.completed_at
    record.year = federation_year(event.completed_at, zone)
    record.revoked_at = None
    record.revoked_ce_id = None
    record.ce_id = ce_id


async def issue_certificate(session: AsyncSession, ctx: Context, record: LearningRecord) -> None:
    """A new certificate, with a new verification code, for a completion on the record."""
    certificate = Certificate(
        certificate_id=str(uuid.uuid4()),
        enrollment_id=record.enrollment_id,
        member_id=record.member_id,
        verification_code=new_verification_code(),
        issued_at=ctx.clock.now(),
    )
    repo.add_certificate(session, certificate)
    # The code is public on the printed certificate, but it never travels on a topic.
    await ctx.outbox.stage(
        session,
        CertificateIssued(
            enrollment_id=record.enrollment_id,
            programme_id=record.programme_id,
            member_id=record.member_id,
            owner_org=record.owner_org,
            home_org=record.home_org,
            certificate_id=certificate.certificate_id,
            issued_at=certificate.issued_at,
        ),
        topic=topics.ENROLLMENT,
    )


async def revoke_completion(
    session: AsyncSession, ctx: Context, event: EnrollmentCompletionRevoked, envelope: Envelope
) -> None:
    """The completion was recorded in error: its hours leave the record and its certificate
    is revoked (verification says so from now on)."""
    if not await ctx.orgs.hosts(event.home_org, session):
        return
    record = await repo.get_record(session, event.enrollment_id)
    if record is None or record.revoked_at is not None:
        return  # nothing recorded here, or revoked already
    record.revoked_at = event.revoked_at
    record.revoked_ce_id = envelope.id
    mark_dirty(session, record.home_org, record.year)
    certificate = await repo.valid_certificate(session, event.enrollment_id)
    if certificate is None:
        return
    certificate.revoked_at = event.revoked_at
    repo.forget_valid_certificate(session, event.enrollment_id)
    await ctx.outbox.stage(
        session,
        CertificateRevoked(
            enrollment_id=event.enrollment_id,
            programme_id=event.programme_id,
            member_id=event.member_id,
            owner_org=event.owner_org,
            home_org=event.home_org,
            certificate_id=certificate.certificate_id,
            revoked_at=event.revoked_at,
        ),
        topic=topics.ENROLLMENT,
    )
