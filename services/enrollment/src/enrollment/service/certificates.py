"""Reading learning records and certificates at the home node: who may see them, what a year
adds up to, what a certificate and its public verification show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import learning_repository as repo
from enrollment.certificate_pdf import CertificateView
from enrollment.domain.learning import (
    Credit,
    YearTotals,
    federation_year,
    local_date,
    looks_like_a_code,
    year_totals,
)
from enrollment.models import Certificate, LearningRecord, Member
from enrollment.service.context import Context
from enrollment.settings import EnrollmentSettings

VERIFY_PATH = "/certificates/verify/"


def verification_url(settings: EnrollmentSettings, code: str) -> str:
    """The public URL printed and QR-coded on the certificate."""
    return f"{settings.public_base}{VERIFY_PATH}{code}"


def current_year(ctx: Context) -> int:
    return federation_year(ctx.clock.now(), ctx.settings.federation_timezone)


@dataclass(frozen=True)
class YearRecord:
    year: int
    totals: YearTotals
    completions: list[tuple[LearningRecord, str | None]]  # with its valid certificate's id


async def year_record(session: AsyncSession, member_id: str, year: int) -> YearRecord:
    """The member's completions that count in `year` and what they add up to."""
    completions = await repo.year_completions(session, member_id, year)
    totals = year_totals(Credit(r.quality_area, r.hours) for r, _ in completions)
    return YearRecord(year, totals, completions)


def certificate_view(
    settings: EnrollmentSettings,
    certificate: Certificate,
    record: LearningRecord,
    member: Member,
) -> CertificateView:
    zone = settings.federation_timezone
    revoked = certificate.revoked_at
    return CertificateView(
        certificate_id=certificate.certificate_id,
        holder_name=member.name,
        programme_title=record.programme_title,
        programme_kind=record.programme_kind,
        quality_area=record.quality_area,
        hours=record.hours,
        completed_on=local_date(record.completed_at, zone),
        score=record.score,
        rank=record.rank,
        verification_code=certificate.verification_code,
        verification_url=verification_url(settings, certificate.verification_code),
        revoked_on=None if revoked is None else local_date(revoked, zone),
        language=member.language,
    )


@dataclass(frozen=True)
class Verification:
    """All that the public learns of a certificate: no contact data, no member id."""

    holder_display_name: str | None
    programme_title: str
    completion_date: date
    valid: bool
    revoked_at: datetime | None


async def verify_code(session: AsyncSession, ctx: Context, code: str) -> Verification | None:
    """The certificate a verification code belongs to (None: no such code here)."""
    if not looks_like_a_code(code):
        return None
    found = await repo.certificate_by_code(session, code)
    if found is None:
        return None
    certificate, record, holder = found
    return Verification(
        holder_display_name=holder,
        programme_title=record.programme_title,
        completion_date=local_date(record.completed_at, ctx.settings.federation_timezone),
        valid=certificate.revoked_at is None,
        revoked_at=certificate.revoked_at,
    )
