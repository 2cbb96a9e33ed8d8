"""Build the enrollment service: runtime (DB, Kafka, outbox relay, consumers) and HTTP app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from enrollment.api import (
    approvals,
    budgets,
    certificates,
    enrollments,
    learning,
    links,
    members,
    orgs,
    programmes,
    rollups,
    rosters,
    seats,
)
from enrollment.consumers import consumer_specs
from enrollment.domain.lifecycle import TransitionNotAllowed
from enrollment.errors import Conflict
from enrollment.models import IDEMPOTENCY_KEYS, MESSAGING, ORGS
from enrollment.service.context import Context
from enrollment.service.offer_expiry import OfferExpiry
from enrollment.service.roster_worker import RosterImports
from enrollment.service.stats_publisher import StatsPublisher
from enrollment.settings import EnrollmentSettings
from shared.clock import Clock
from shared.contracts import topics
from shared.contracts.events import (
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
    MemberRegistered,
    OrgRegistered,
    ProgrammeCancelled,
    ProgrammeChanged,
    ProgrammePublished,
    ProgrammeWaitlistMoved,
    StatsSnapshot,
)
from shared.links import LinkSigner
from shared.runtime import ServiceRuntime
from shared.web.problems import problem_response

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: EnrollmentSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or EnrollmentSettings()
    runtime = ServiceRuntime(settings, MESSAGING, MIGRATIONS, clock)
    ctx = Context(
        settings=settings,
        outbox=runtime.outbox,
        orgs=runtime.org_directory(ORGS),
        clock=runtime.clock,
        links=link_signer(settings),
    )
    for spec in consumer_specs(ctx):
        runtime.consume(spec)
    runtime.publishes(topics.FEDERATION, OrgRegistered)
    runtime.publishes(topics.members(settings.node_id), MemberRegistered)
    runtime.publishes(
        topics.ENROLLMENT,
        ProgrammePublished,
        EnrollmentConfirmed,
        EnrollmentWaitlisted,
        EnrollmentRefused,
    )
    runtime.publishes("bigschool.node.{owner}.inbox.v1", EnrollmentRequested)
    # The lifecycle after the decision: owner node (seats) and home node (the member's asks).
    runtime.publishes(
        topics.ENROLLMENT,
        EnrollmentRefusedV2,
        EnrollmentAwaitingBudget,
        EnrollmentOffered,
        EnrollmentOfferExpired,
        EnrollmentCancelled,
        EnrollmentAttended,
        EnrollmentNoShow,
        EnrollmentCompleted,
        EnrollmentCompletionRevoked,
        ProgrammeChanged,
        ProgrammeCancelled,
        ProgrammeWaitlistMoved,
    )
    runtime.publishes(
        "bigschool.node.{owner}.inbox.v1", EnrollmentCancellationRequested, EnrollmentOfferAccepted
    )
    runtime.run_in_background(OfferExpiry(runtime.db, ctx).run)
    roster_imports = RosterImports(runtime.db, ctx)  # bulk roster imports, chunk by chunk
    runtime.run_in_background(roster_imports.run)
    # Roll-ups: the own figures of the orgs hosted here, debounced (service/stats.py).
    runtime.publishes(topics.STATS, StatsSnapshot)
    runtime.run_in_background(StatsPublisher(runtime.db, ctx).run)
    # Home node: approvals by the member's grassroots cadre.
    runtime.publishes(
        topics.ENROLLMENT, EnrollmentPendingApproval, EnrollmentApproved, EnrollmentRejected
    )
    # Home node: learning records and certificates (learning_consumer.py).
    runtime.publishes(topics.ENROLLMENT, CertificateIssued, CertificateRevoked)
    app = runtime.create_app(
        title=f"Big School enrollment ({settings.node_id})",
        description="Orgs, members, programmes and enrollments of one node.",
        routers=[
            orgs.router,
            members.router,
            programmes.router,
            enrollments.router,
            approvals.router,
            seats.router,
            links.router,
            budgets.router,
            learning.router,
            certificates.router,
            rosters.router,
            rollups.router,
        ],
        idempotency_keys=IDEMPOTENCY_KEYS,
        # Public: certificate verification, one-click links from e-mails (no login).
        public_prefixes=[certificates.PUBLIC_PREFIX, "/links/"],
    )
    app.state.context = ctx
    app.state.roster_imports = roster_imports
    app.add_exception_handler(TransitionNotAllowed, transition_refused)  # type: ignore[arg-type]
    app.add_exception_handler(IntegrityError, rosters.employee_number_taken)  # type: ignore[arg-type]
    return app


async def transition_refused(request: Request, exc: TransitionNotAllowed) -> JSONResponse:
    """A step that is not allowed from the enrollment's state: 409 naming both."""
    problem = Conflict(str(exc), state=exc.state.value, transition=exc.step.value)
    return problem_response(409, problem.body(request.url.path))


def link_signer(settings: EnrollmentSettings) -> LinkSigner | None:
    if settings.link_secret is None:
        return None
    secret = settings.link_secret.get_secret_value()
    return LinkSigner(secret, max_age_seconds=settings.link_max_age_hours * 3600)
