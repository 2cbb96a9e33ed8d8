"""Build the notifications service: runtime (DB, Kafka, consumers), dispatcher and HTTP app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from notifications.api import deliveries, inbox, notices, staff
from notifications.api import preferences as preferences_api
from notifications.api import webhooks as webhooks_api
from notifications.api.inbox_stream import CommitBell
from notifications.api.inbox_stream import router as inbox_stream_router
from notifications.api.templates import router as templates_router
from notifications.consumers import consumer_specs
from notifications.dispatcher import Dispatcher
from notifications.mailer import Mailer
from notifications.models import IDEMPOTENCY_KEYS, MESSAGING, ORGS
from notifications.service.context import Context
from notifications.service.digest import DigestWorker
from notifications.service.fanout import FanoutWorker
from notifications.service.reminders import ReminderWorker
from notifications.settings import NotificationsSettings
from notifications.webhooks.sender import WebhookSender
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
    fanout = FanoutWorker(runtime.db, ctx)
    runtime.run_in_background(fanout.run)
    reminders = ReminderWorker(runtime.db, ctx)  # programme reminders, on the clock
    runtime.run_in_background(reminders.run)
    digests = DigestWorker(runtime.db, ctx)  # daily digests, at each member's hour
    runtime.run_in_background(digests.run)
    webhook_sender = WebhookSender(runtime.db, ctx)  # integrators' signed webhooks
    runtime.run_in_background(webhook_sender.run)
    app = runtime.create_app(
        title=f"Big School notifications ({settings.node_id})",
        description="Tells this node's members what happened: e-mail and the in-app inbox.",
        routers=[
            inbox_stream_router,
            inbox.router,
            deliveries.router,
            preferences_api.router,
            notices.router,
            staff.router,
            templates_router,
            webhooks_api.router,
        ],
        idempotency_keys=IDEMPOTENCY_KEYS,
    )
    app.state.context = ctx
    app.state.dispatcher = dispatcher
    app.state.inbox_bell = CommitBell(runtime.db)  # wakes open inbox streams on commit
    app.state.fanout = fanout
    app.state.reminders = reminders
    app.state.webhooks = webhook_sender
    app.state.digests = digests
    return app
