"""Build the awards service: runtime (DB, Kafka, outbox relay, consumers) and HTTP app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from awards.api import member_facts, rollups
from awards.consumers import consumer_specs
from awards.models import IDEMPOTENCY_KEYS, MESSAGING, ORGS
from awards.service.context import Context
from awards.settings import AwardsSettings
from shared.clock import Clock
from shared.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: AwardsSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or AwardsSettings()
    runtime = ServiceRuntime(settings, MESSAGING, MIGRATIONS, clock)
    ctx = Context(
        settings=settings,
        outbox=runtime.outbox,
        orgs=runtime.org_directory(ORGS),
        clock=runtime.clock,
    )
    for spec in consumer_specs(ctx):
        runtime.consume(spec)
    app = runtime.create_app(
        title=f"Big School awards ({settings.node_id})",
        description="Eligibility facts learnt from enrollment events, and their roll-ups.",
        routers=[member_facts.router, rollups.router],
        idempotency_keys=IDEMPOTENCY_KEYS,
    )
    app.state.context = ctx
    return app
