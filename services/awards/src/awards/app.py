"""Build the awards service: runtime (DB, Kafka, outbox relay, consumers) and HTTP app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from awards.api import (
    decisions,
    honours,
    member_facts,
    nominations,
    notices,
    org_members,
    proposal_stats,
    proposal_tiers,
    proposals,
    reward_quotas,
    rewards,
    rollups,
    schemes,
    stipends,
)
from awards.consumers import NOMINATION_STEPS, consumer_specs
from awards.models import IDEMPOTENCY_KEYS, MESSAGING, ORGS
from awards.service.context import Context
from awards.service.stipends import StipendPayments
from awards.settings import AwardsSettings
from shared.clock import Clock
from shared.contracts import topics
from shared.contracts.events import (
    HonourGranted,
    HonoursTransferred,
    NominationDossier,
    NoticePublished,
    ObjectionClosed,
    ObjectionSubmitted,
    ProposalEvaluated,
    RoundChanged,
    SchemePublished,
)
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
    # Schemes, rounds and every nomination step (full state, keyed by nomination id); every
    # honour, whoever grants it; a moved member's facts and honours.
    runtime.publishes(
        topics.AWARDS,
        SchemePublished,
        RoundChanged,
        *NOMINATION_STEPS,
        HonourGranted,
        HonoursTransferred,
    )
    # Addressed to one node: dossiers sent up, notices to the subtree, objections and answers.
    runtime.publishes(
        "bigschool.node.{node}.inbox.v1",
        NominationDossier,
        NoticePublished,
        ObjectionSubmitted,
        ObjectionClosed,
    )
    # Node-local: a proposal's author told of each evaluation step (never leaves the node).
    runtime.publishes("bigschool.node.{node}.members.v1", ProposalEvaluated)
    # Scheme owner: raises the stipend payments due, on the service's clock.
    stipend_payments = StipendPayments(runtime.db, ctx)
    runtime.run_in_background(stipend_payments.run)
    app = runtime.create_app(
        title=f"Big School awards ({settings.node_id})",
        description="Recognition: award schemes, rounds and nominations across union levels, "
        "public notices and objections, decisions, grants and stipends; immediate rewards; "
        "rationalization proposals; eligibility facts learnt from enrollment events and the "
        "members' honours records.",
        routers=[
            member_facts.router,
            rollups.router,
            honours.router,
            org_members.router,
            reward_quotas.router,
            rewards.router,
            proposals.router,
            proposal_tiers.router,
            proposal_stats.router,
            schemes.router,
            nominations.router,
            notices.router,
            decisions.router,
            stipends.router,
        ],
        idempotency_keys=IDEMPOTENCY_KEYS,
    )
    app.state.context = ctx
    app.state.stipend_payments = stipend_payments
    return app
