"""One service of one node in one process: FastAPI for HTTP, FastStream subscribers for
Kafka, the outbox relay and any background workers — started and stopped together.

A newcomer follows a request like this: HTTP route → use case (one transaction, which
also stages events with ``runtime.outbox``) → outbox row → ``OutboxRelay`` → Kafka →
``IdempotentConsumer`` on the reacting service → its use case.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from sqlalchemy import Table, text
from uvicorn.importer import import_from_string

from shared.auth.tokens import TokenVerifier
from shared.clock import Clock, OffsetFileClock, SystemClock
from shared.contracts.base import Event
from shared.contracts.topics import node_topics
from shared.db import Database
from shared.kafka.topics import require_topics
from shared.logs import configure_logging
from shared.messaging.consumer import ConsumerSpec, IdempotentConsumer
from shared.messaging.dead_letters import DeadLetters
from shared.messaging.outbox import Outbox, OutboxRelay, Producer
from shared.messaging.pruning import ProcessedPruner
from shared.messaging.subscription import subscribe
from shared.messaging.tables import MessagingTables
from shared.migrations import upgrade_to_head
from shared.orgs.directory import OrgDirectory
from shared.orgs.signing import FederationKeys, NodeSigner, key_id
from shared.settings import ServiceSettings
from shared.tasks import cancel_and_wait
from shared.telemetry.sampling import OpsSampler
from shared.tracing import configure_tracing, flush_traces, instrument_database
from shared.web import ops
from shared.web.guards import install_guards
from shared.web.idempotency import IdempotencyPruner, IdempotencyStore
from shared.web.problems import install_problem_handlers
from shared.web.trace import instrument_http

log = logging.getLogger(__name__)

Worker = Callable[[], Coroutine[Any, Any, None]]


class ServiceRuntime:
    def __init__(
        self,
        settings: ServiceSettings,
        tables: MessagingTables,
        migrations_dir: Path,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.tables = tables
        self.migrations_dir = migrations_dir
        self.clock = clock or (
            OffsetFileClock(settings.clock_offset_file)
            if settings.clock_offset_file
            else SystemClock()
        )
        configure_tracing(settings.service, settings.node_id)
        self.db = Database(settings.database_url)
        instrument_database(self.db.engine)
        self.signatures = _federation_keys(settings)
        self.outbox = Outbox(tables, settings.source, self.clock, signer=_node_signer(settings))
        self.kafka = settings.kafka.connection()
        self.producer = Producer(self.kafka, settings.source)
        self.relay = OutboxRelay(
            self.db,
            tables,
            self.producer,
            poll_seconds=settings.outbox_poll_seconds,
            linger_seconds=settings.outbox_linger_ms / 1000,
        )
        self.broker = KafkaBroker(
            self.kafka.bootstrap_servers,
            security=self.kafka.faststream_security(),
            client_id=settings.source,
            enable_idempotence=True,
            graceful_timeout=10.0,
            # Our JSON log handler; one line per message only at DEBUG (federation volumes).
            logger=logging.getLogger("bigschool.kafka"),
            log_level=logging.DEBUG,
        )
        self.pruner = ProcessedPruner(
            self.db, tables, self.clock, timedelta(days=settings.processed_retention_days)
        )
        self.consumers: list[IdempotentConsumer] = []
        self.workers: list[Worker] = []
        self._tasks: list[asyncio.Task[None]] = []

    # -- wiring -----------------------------------------------------------------------
    def org_directory(self, table: Table) -> OrgDirectory:
        """This node's replica of the org tree, kept in `table` of this service's database."""
        return OrgDirectory(
            self.db, table, self.settings.node_id, self.settings.root_org, self.clock
        )

    def consume(self, spec: ConsumerSpec) -> IdempotentConsumer:
        consumer = IdempotentConsumer(
            spec,
            self.db,
            self.tables,
            DeadLetters(self.producer, spec.group_id),
            clock=self.clock,
            signatures=self.signatures,
            held_limit_seconds=self.settings.held_limit_seconds,
        )
        subscribe(
            self.broker,
            consumer,
            session_timeout_ms=self.settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=self.settings.kafka_heartbeat_interval_ms,
            batch_size=self.settings.kafka_batch_size,
            fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms,
            fetch_min_bytes=self.settings.kafka_fetch_min_bytes,
        )
        self.consumers.append(consumer)
        return consumer

    def publishes(self, topic: str, *events: type[Event]) -> None:
        """Document what this service publishes in its AsyncAPI document."""
        for model in events:
            self.broker.publisher(
                topic,
                title=f"{topic}:{model.ce_type}",
                schema=model,
                description=(model.__doc__ or "").strip() or None,
            )

    def run_in_background(self, worker: Worker) -> None:
        self.workers.append(worker)

    # -- lifecycle --------------------------------------------------------------------
    async def start(self) -> None:
        settings = self.settings
        configure_logging(settings.service, settings.node_id, settings.log_level)
        if self.settings.migrate_on_start:
            await upgrade_to_head(self.migrations_dir, self.settings.database_url)
        # Topics are provisioned (shared.kafka.provision); a node's principal cannot create them.
        await require_topics(
            self.kafka, [t.name for t in node_topics(self.settings.node_id, partitions=1)]
        )
        await self.producer.start()
        await self.broker.start()
        sampler = OpsSampler(
            self.db,
            self.tables.outbox,
            self.clock,
            self.broker.subscribers,
            checks={"database": self.check_database, "kafka": self.check_kafka},
            interval_seconds=settings.ops_sample_seconds,
        )
        for worker in [self.relay.run, self.pruner.run, sampler.run, *self.workers]:
            self._tasks.append(asyncio.create_task(worker(), name=worker.__qualname__))
        log.info("%s started", self.settings.source)

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)
        self._tasks.clear()
        await self.broker.stop()
        await self.producer.stop()
        await self.db.dispose()
        flush_traces()

    @asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    # -- readiness --------------------------------------------------------------------
    async def check_database(self) -> None:
        async with self.db.reading() as session:
            await asyncio.wait_for(session.execute(text("SELECT 1")), timeout=3)

    async def check_kafka(self) -> None:
        await asyncio.wait_for(self.producer.kafka.client.fetch_all_metadata(), timeout=3)

    # -- HTTP -------------------------------------------------------------------------
    def create_app(
        self,
        *,
        title: str,
        description: str,
        routers: Iterable[APIRouter],
        idempotency_keys: Table,
        public_prefixes: Iterable[str] = (),
    ) -> FastAPI:
        """The service's HTTP app behind the shared guards (shared/web/guards.py);
        `idempotency_keys` is the service's table of `shared.web.idempotency`;
        `public_prefixes` are path prefixes answered without a token."""
        app = FastAPI(title=title, description=description, lifespan=self.lifespan)
        app.state.runtime = self
        app.state.token_verifier = TokenVerifier(
            issuer=self.settings.jwt_issuer,
            audience=self.settings.audience,
            jwks_path=self.settings.jwt_jwks_path,
            jwks_url=self.settings.jwt_jwks_url,
        )
        app.state.readiness_checks = {"database": self.check_database, "kafka": self.check_kafka}
        install_problem_handlers(app)
        app.include_router(ops.router)
        for router in routers:
            app.include_router(router)

        asyncapi = AsyncAPI(self.broker, title=f"{title} (events)", version="1")

        @app.get("/asyncapi.json", tags=["operations"], summary="AsyncAPI document")
        async def asyncapi_document() -> JSONResponse:
            return JSONResponse(asyncapi.to_specification().to_jsonable())

        keys = IdempotencyStore(
            self.db,
            idempotency_keys,
            self.clock,
            timedelta(hours=self.settings.idempotency_ttl_hours),
        )
        install_guards(
            app, self.settings, app.state.token_verifier, keys, open_prefixes=[*public_prefixes]
        )
        self.run_in_background(IdempotencyPruner(keys).run)

        instrument_http(app)  # outermost: the guards' log lines carry the request's span
        return app


def serve(factory: str) -> None:
    """Run one service: `python -m enrollment` calls `serve("enrollment.app:create_app")`.

    With `BIGSCHOOL_HTTP_WORKERS` > 1 (PostgreSQL), the database is migrated once here, then
    each worker process builds its own app: its consumers join the same groups (Kafka shares
    the partitions among them), its outbox relay waits for the one lease, and HTTP requests
    are spread over all of them."""
    app: FastAPI = import_from_string(factory)()
    runtime: ServiceRuntime = app.state.runtime
    settings = runtime.settings
    configure_logging(settings.service, settings.node_id, settings.log_level)
    options: dict[str, Any] = {
        "host": settings.http_host,
        "port": settings.http_port,
        "log_config": None,
        "access_log": False,
    }
    if settings.http_workers == 1:
        uvicorn.run(app, **options)
        return
    if settings.migrate_on_start:
        asyncio.run(upgrade_to_head(runtime.migrations_dir, settings.database_url))
    os.environ["BIGSCHOOL_MIGRATE_ON_START"] = "false"  # the workers inherit it
    # Each worker writes its metrics to files there; /metrics adds them all up.
    os.environ.setdefault(ops.MULTIPROCESS_ENV, tempfile.mkdtemp(prefix="bigschool-metrics-"))
    uvicorn.run(factory, factory=True, workers=settings.http_workers, **options)


def _federation_keys(settings: ServiceSettings) -> FederationKeys:
    if settings.federation_jwks_path is None:
        raise ValueError(
            "BIGSCHOOL_FEDERATION_JWKS_PATH is required: every node checks the signatures "
            "of org-tree events against the federation's node keys"
        )
    return FederationKeys.from_file(settings.federation_jwks_path)


def _node_signer(settings: ServiceSettings) -> NodeSigner | None:
    """The key that signs this node's org-tree events (only enrollment writes them)."""
    if settings.node_key_path is None:
        return None
    kid = settings.node_key_id or key_id(settings.node_id)
    return NodeSigner.from_pem(settings.node_key_path.read_bytes(), kid)
