"""Build the notifications service: runtime (DB, Kafka, consumers), dispatcher and HTTP app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from notifications.api import deliveries, inbox
from notifications.consumers import consumer_specs
from notifications.dispatcher import Dispatcher
from notifications.mailer import Mailer
from notifications.models import IDEMPOTENCY_KEYS, MESSAGING, ORGS
from notifications.service.context import Context
from notifications.settings import NotificationsSettings
from shared.clock import Clock
from shared.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(
    settings: NotificationsSettings | None = None, clock: Clock | None = None
) -> FastAPI:
    settings = settings or NotificationsSettings()
    runtime = ServiceRuntime(settings, MESSAGING, MIGRATIONS, clock)
    ctx = Context(settings=settings, orgs=runtime.org_directory(ORGS), clock=runtime.clock)
    for spec in consumer_specs(ctx):
        runtime.consume(spec)
    dispatcher = Dispatcher(runtime.db, ctx, Mailer(settings))
    runtime.run_in_background(dispatcher.run)
    app = runtime.create_app(
        title=f"Big School notifications ({settings.node_id})",
        description="Tells this node's members what happened: e-mail and the in-app inbox.",
        routers=[inbox.router, deliveries.router],
        idempotency_keys=IDEMPOTENCY_KEYS,
    )
    app.state.context = ctx
    app.state.dispatcher = dispatcher
    return app
