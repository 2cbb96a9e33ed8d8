"""Small tools the end-to-end tests share: members in bulk, concurrent enrollments,
database reads (to check what each node stores) and topic scans."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer
from prometheus_client.parser import text_string_to_metric_families

from deploy.local.federation import ENTERPRISE_NODE, Federation
from shared.kafka.connection import KafkaConnection

MEMBER_DOMAIN = "members.example"  # every test member's e-mail: easy to search for leaks
PHONE_PREFIX = "+86 139"


def new_members(
    federation: Federation,
    count: int,
    org: str = "hzsteel-rolling",
    language: str = "en",
    node: str = ENTERPRISE_NODE,
) -> list[dict[str, Any]]:
    members = []
    for _ in range(count):
        tag = uuid.uuid4().hex[:10]
        members.append(
            federation.register_member(
                node,
                org,
                name=f"Worker {tag}",
                email=f"w{tag}@{MEMBER_DOMAIN}",
                phone=f"{PHONE_PREFIX} {int(tag[:8], 16) % 10**8:08d}",
                language=language,
            )
        )
    return members


def enrol_all(
    federation: Federation,
    members: list[dict[str, Any]],
    programme_id: str,
    workers: int = 32,
    node: str = ENTERPRISE_NODE,
) -> list[dict[str, Any]]:
    """Every member asks for a seat at once (as many requests in flight as workers)."""

    def enrol(member: dict[str, Any]) -> dict[str, Any]:
        client = federation.member_client(node, member)
        try:
            return client.post("/enrollments", {"programme_id": programme_id}, expect=202)
        finally:
            client.close()

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(enrol, members))


def pg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def query(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(pg_dsn(url))
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def wait_until(condition: Callable[[], Any], timeout: float = 60, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(0.3)
    raise TimeoutError(f"{what} not reached in {timeout}s (last: {last!r})")


def database_text(url: str) -> str:
    """Every row of every table of a database, as text: to search for personal data."""
    tables = query(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    chunks = []
    for row in tables:
        name = row["tablename"]
        chunks += [r["row"] for r in query(url, f'SELECT t::text AS row FROM "{name}" t')]
        if name == "outbox":  # bytea renders as hex in t::text: read the payload as text too
            chunks += [
                r["p"] for r in query(url, "SELECT encode(payload, 'escape') AS p FROM outbox")
            ]
    return "\n".join(chunks)


def topic_bytes(kafka: KafkaConnection, topic: str) -> list[bytes]:
    """Every value and header of every message in `topic`, from the earliest offset."""

    async def run() -> list[bytes]:
        # No group: the consumer is given every partition of the topic.
        consumer = AIOKafkaConsumer(
            topic,
            **kafka.aiokafka(),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            for _ in range(100):
                if consumer.assignment():
                    break
                await asyncio.sleep(0.1)
            tps = list(consumer.assignment())
            await consumer.seek_to_beginning(*tps)
            end = await consumer.end_offsets(tps)
            out: list[bytes] = []

            async def behind() -> bool:
                return any([await consumer.position(tp) < end[tp] for tp in tps])

            while await behind():
                batch = await consumer.getmany(timeout_ms=1000)
                for records in batch.values():
                    for r in records:
                        out.append(r.value or b"")
                        out.extend(v for _, v in r.headers)
            return out
        finally:
            await consumer.stop()

    return asyncio.run(run())


def messages_to(smtp: Any, emails: set[str]) -> dict[str, set[str]]:
    """Distinct Message-IDs received per recipient address."""
    seen: dict[str, set[str]] = {e: set() for e in emails}
    for mail in list(smtp.messages):
        for rcpt in mail.rcpt_tos:
            if rcpt in seen and mail.message_id:
                seen[rcpt].add(mail.message_id)
    return seen


async def dead_letters(kafka: KafkaConnection, dlq_topic: str) -> list[dict[str, str]]:
    """Every dead letter of `dlq_topic` up to its end: its headers as text, and its value as
    `_value` (many consumers write there: one fetch may not hold them all)."""
    consumer = AIOKafkaConsumer(
        dlq_topic, **kafka.aiokafka(), auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    try:
        out: list[dict[str, str]] = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                for r in records:
                    headers = {k: v.decode(errors="replace") for k, v in r.headers}
                    headers["_value"] = (r.value or b"").decode(errors="replace")
                    out.append(headers)
            tps = consumer.assignment()
            if tps:
                end = await consumer.end_offsets(list(tps))
                if all([await consumer.position(tp) >= end[tp] for tp in tps]):
                    break
        return out
    finally:
        await consumer.stop()


OPS_GAUGES = (
    "bigschool_outbox_backlog",
    "bigschool_outbox_oldest_age_seconds",
    "bigschool_consumer_lag",
)


def ops_gauges(service_url: str) -> dict[str, float]:
    """The highest value of each ops gauge on a service's `/metrics` (any labels)."""
    text = httpx.get(f"{service_url}/metrics", timeout=5).text
    highest: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name in OPS_GAUGES:
                highest[s.name] = max(highest.get(s.name, 0.0), s.value)
    return highest


class GaugeWatch:
    """Scrapes services' `/metrics` in the background and keeps each ops gauge's highest
    value: what ops would have seen during a flow."""

    def __init__(self, urls: dict[str, str], every: float = 0.3) -> None:
        self.urls, self.every = urls, every
        self.highest: dict[str, dict[str, float]] = {name: {} for name in urls}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            for name, url in self.urls.items():
                try:
                    seen = ops_gauges(url)
                except httpx.HTTPError:
                    continue  # a service busy or restarting: the next round
                for gauge, value in seen.items():
                    kept = self.highest[name]
                    kept[gauge] = max(kept.get(gauge, 0.0), value)

    def __enter__(self) -> GaugeWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
