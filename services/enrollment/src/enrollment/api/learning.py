"""A member's learning record and certificates, at their home node: the member themself or a
cadre of their home org; anyone else gets 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import learning_repository, repository
from enrollment.api.deps import Ctx, Db
from enrollment.api.members import manages
from enrollment.domain.learning import local_date
from enrollment.errors import NotFound
from enrollment.models import Certificate, LearningRecord, Member
from enrollment.schemas import (
    CertificateOut,
    CertificatePage,
    CompletionOut,
    LearningRecordOut,
)
from enrollment.service.certificates import current_year, verification_url, year_record
from enrollment.settings import EnrollmentSettings
from shared.auth import Principal
from shared.auth.dependencies import CurrentPrincipal
from shared.contracts.events import QualityArea
from shared.web.cursor import encode_position
from shared.web.deps import AfterPosition, PageLimit
from shared.web.fields import Id

router = APIRouter(prefix="/members", tags=["learning records"])

Year = Annotated[
    int | None,
    Query(ge=1900, le=2200, description="Calendar year in the federation's zone; default now."),
]


async def _member_for(session: AsyncSession, who: Principal, member_id: str) -> Member:
    member = await repository.get_member(session, member_id)
    if member is None or not (who.member_id == member_id or manages(who, member.home_org)):
        raise NotFound(f"member {member_id} not found")
    return member


@router.get(
    "/{member_id}/learning-record",
    response_model=LearningRecordOut,
    summary="A member's learning record for one year: hours per quality area, completions",
)
async def learning_record(
    member_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db, year: Year = None
) -> LearningRecordOut:
    async with db.reading() as session:
        await _member_for(session, who, member_id)
        record = await year_record(session, member_id, year or current_year(ctx))
    zone = ctx.settings.federation_timezone
    return LearningRecordOut(
        member_id=member_id,
        year=record.year,
        hours_by_quality_area={
            QualityArea(area): hours for area, hours in record.totals.hours_by_quality_area.items()
        },
        total_hours=record.totals.total_hours,
        completions_count=record.totals.completions,
        completions=[
            CompletionOut(
                enrollment_id=r.enrollment_id,
                programme_id=r.programme_id,
                programme_title=r.programme_title,
                programme_kind=r.programme_kind,
                quality_area=QualityArea(r.quality_area),
                hours=r.hours,
                score=r.score,
                rank=r.rank,
                completed_at=r.completed_at,
                completed_on=local_date(r.completed_at, zone),
                certificate_id=certificate_id,
            )
            for r, certificate_id in record.completions
        ],
    )


@router.get(
    "/{member_id}/certificates",
    response_model=CertificatePage,
    summary="A member's certificates, newest first (revoked ones say so)",
)
async def list_certificates(
    member_id: Id,
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    before: AfterPosition,
    limit: PageLimit = 50,
) -> CertificatePage:
    async with db.reading() as session:
        await _member_for(session, who, member_id)
        rows = await learning_repository.member_certificates(
            session, member_id, before=before, limit=limit + 1
        )
    items = [_certificate_out(ctx.settings, c, r) for c, r in rows[:limit]]
    last = rows[limit - 1][0] if len(rows) > limit else None
    return CertificatePage(
        items=items,
        next_cursor=None if last is None else encode_position(last.issued_at, last.certificate_id),
    )


def _certificate_out(
    settings: EnrollmentSettings, certificate: Certificate, record: LearningRecord
) -> CertificateOut:
    return CertificateOut(
        certificate_id=certificate.certificate_id,
        enrollment_id=certificate.enrollment_id,
        programme_id=record.programme_id,
        programme_title=record.programme_title,
        quality_area=QualityArea(record.quality_area),
        hours=record.hours,
        completed_on=local_date(record.completed_at, settings.federation_timezone),
        issued_at=certificate.issued_at,
        revoked_at=certificate.revoked_at,
        valid=certificate.revoked_at is None,
        verification_code=certificate.verification_code,
        verification_url=verification_url(settings, certificate.verification_code),
        pdf_url=f"/certificates/{certificate.certificate_id}.pdf",
    )
