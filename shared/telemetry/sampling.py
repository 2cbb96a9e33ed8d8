"""Gauges that no single event moves, sampled by a background task of every service: the
outbox's backlog and the age of its oldest row (one query on the primary key's order), each
consumer's lag per partition (the broker's high watermark, as of the last fetch, minus the
group's committed offset), and the readiness checks of /readyz."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC
from typing import Any

from aiokafka import TopicPartition
from sqlalchemy import Table, func, select

from shared.clock import Clock
from shared.db import Database
from shared.metrics import CONSUMER_LAG, OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE, READY
from shared.web.ops import MULTIPROCESS_ENV

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 10.0
CHECK_TIMEOUT_SECONDS = 3.0

Check = Callable[[], Awaitable[None]]


class OpsSampler:
    def __init__(
        self,
        db: Database,
        outbox: Table,
        clock: Clock,
        subscribers: Iterable[Any] = (),
        checks: Mapping[str, Check] | None = None,
        interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.clock = clock
        # FastStream's Kafka subscribers: `group_id`, and `consumer` (aiokafka's consumer
        # once started, else None); untyped in the library.
        self.subscribers = subscribers
        self.checks = dict(checks or {})
        self.interval_seconds = interval_seconds
        self._lag_labels: set[tuple[str, str, str]] = set()

    async def run(self) -> None:
        """Sample forever; a fault (the database is away) leaves the last values and is
        retried at the next round."""
        while True:
            try:
                await self.sample()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info(
                    "ops sampler: %s; next round in %.0fs",
                    type(exc).__name__,
                    self.interval_seconds,
                )
            await asyncio.sleep(self.interval_seconds)

    async def sample(self) -> None:
        await self.sample_readiness()  # first: it tells when the others cannot work
        await self.sample_outbox()
        await self.sample_lag()

    async def sample_readiness(self) -> None:
        for name, check in self.checks.items():
            try:
                await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
            except Exception:
                READY.labels(name).set(0)
            else:
                READY.labels(name).set(1)

    async def sample_outbox(self) -> None:
        table = self.outbox
        oldest = select(table.c.created_at).order_by(table.c.seq).limit(1).scalar_subquery()
        async with self.db.reading() as session:
            count, created = (
                await session.execute(select(func.count(), oldest).select_from(table))
            ).one()
        OUTBOX_BACKLOG.set(count)
        if created is None:
            OUTBOX_OLDEST_AGE.set(0)
            return
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        OUTBOX_OLDEST_AGE.set(max(0.0, (self.clock.now() - created).total_seconds()))

    async def sample_lag(self) -> None:
        seen: set[tuple[str, str, str]] = set()
        for subscriber in self.subscribers:
            consumer = getattr(subscriber, "consumer", None)
            if consumer is None:
                continue
            group = getattr(subscriber, "group_id", None) or ""
            for tp in list(consumer.assignment()):
                lag = await _lag(consumer, tp)
                if lag is None:
                    continue
                labels = (group, tp.topic, str(tp.partition))
                CONSUMER_LAG.labels(*labels).set(lag)
                seen.add(labels)
        for gone in self._lag_labels - seen:  # partitions that moved to another consumer
            # Several worker processes keep every series they wrote (prometheus_client cannot
            # remove one there): 0 leaves the `livemax` to the partition's new owner.
            CONSUMER_LAG.labels(*gone).set(0)
            if not os.environ.get(MULTIPROCESS_ENV):
                CONSUMER_LAG.remove(*gone)
        self._lag_labels = seen


async def _lag(consumer: Any, tp: TopicPartition) -> int | None:
    """High watermark (as of the last fetch) minus the group's committed offset: messages
    not yet handled for good, as `kafka-consumer-groups.sh` counts them — a batch fetched
    and still being handled counts. Before the group's first commit on the partition: minus
    the position. None until the partition was fetched once."""
    highwater = consumer.highwater(tp)
    if highwater is None:
        return None
    try:  # one request to the group coordinator per partition and round
        done = await asyncio.wait_for(consumer.committed(tp), timeout=1.0)
        if done is None:
            done = await asyncio.wait_for(consumer.position(tp), timeout=1.0)
    except Exception:  # being reassigned, or its offset is being reset
        return None
    return max(0, int(highwater) - int(done))
