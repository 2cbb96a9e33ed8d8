"""Build the enrollment service: runtime (DB, Kafka, outbox relay, consumers) and HTTP app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from enrollment.api import enrollments, members, orgs, programmes
from enrollment.consumers import consumer_specs
from enrollment.models import IDEMPOTENCY_KEYS, MESSAGING, ORGS
from enrollment.service.context import Context
from enrollment.settings import EnrollmentSettings
from shared.clock import Clock
from shared.contracts import topics
from shared.contracts.events import (
    EnrollmentConfirmed,
    EnrollmentRefused,
    EnrollmentRequested,
    EnrollmentWaitlisted,
    MemberRegistered,
    OrgRegistered,
    ProgrammePublished,
)
from shared.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: EnrollmentSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or EnrollmentSettings()
    runtime = ServiceRuntime(settings, MESSAGING, MIGRATIONS, clock)
    ctx = Context(
        settings=settings,
        outbox=runtime.outbox,
        orgs=runtime.org_directory(ORGS),
        clock=runtime.clock,
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
    app = runtime.create_app(
        title=f"Big School enrollment ({settings.node_id})",
        description="Orgs, members, programmes and enrollments of one node.",
        routers=[orgs.router, members.router, programmes.router, enrollments.router],
        idempotency_keys=IDEMPOTENCY_KEYS,
    )
    app.state.context = ctx
    return app
