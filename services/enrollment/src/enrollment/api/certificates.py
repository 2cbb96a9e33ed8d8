"""Certificates: the PDF (the holder or a cadre of their home org), and the public
verification of a code — the one route under `/certificates/verify/` that needs no token
(app.py lists the prefix; shared/web/guards.py exempts it)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from enrollment import learning_repository
from enrollment.api.deps import Ctx, Db
from enrollment.api.members import manages
from enrollment.certificate_pdf import choose_fonts, render_certificate
from enrollment.errors import NotFound
from enrollment.schemas import CertificateVerificationOut
from enrollment.service.certificates import VERIFY_PATH, certificate_view, verify_code
from shared.auth.dependencies import CurrentPrincipal
from shared.web.fields import Id

router = APIRouter(prefix="/certificates", tags=["certificates"])

# The public prefix: answered without a bearer token.
PUBLIC_PREFIX = VERIFY_PATH


@router.get(
    "/{certificate_id}.pdf",
    response_class=Response,
    summary="A certificate as a PDF, with its verification code and QR code",
    responses={200: {"content": {"application/pdf": {}}, "description": "The PDF."}},
)
async def certificate_pdf(certificate_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db) -> Response:
    async with db.reading() as session:
        found = await learning_repository.certificate_of(session, certificate_id)
    if found is None:
        raise NotFound(f"certificate {certificate_id} not found")
    certificate, record, member = found
    if not (who.member_id == certificate.member_id or manages(who, member.home_org)):
        raise NotFound(f"certificate {certificate_id} not found")
    view = certificate_view(ctx.settings, certificate, record, member)
    fonts = choose_fonts(ctx.settings.certificate_font)
    # Font subsetting takes a few hundred milliseconds of CPU: not on the event loop.
    pdf = await run_in_threadpool(render_certificate, view, fonts)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="certificate-{certificate_id}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get(
    "/verify/{code}",
    response_model=CertificateVerificationOut,
    summary="Public: is the certificate with this code valid? (no token)",
    description="Answers only the holder's display name, the programme, the completion date "
    "and whether the certificate is valid or revoked. An unknown code is a 404.",
)
async def verify(code: str, ctx: Ctx, db: Db, response: Response) -> CertificateVerificationOut:
    async with db.reading() as session:
        found = await verify_code(session, ctx, code)
    if found is None:
        raise NotFound("no certificate has this verification code")  # the code is not echoed
    # A revocation must show at once; the holder's name is not for search engines.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return CertificateVerificationOut(
        holder_display_name=found.holder_display_name,
        programme_title=found.programme_title,
        completion_date=found.completion_date,
        valid=found.valid,
        revoked_at=found.revoked_at,
    )
