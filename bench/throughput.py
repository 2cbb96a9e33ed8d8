"""Raw Kafka throughput against the enrollment flow's end-to-end throughput, on the same
broker in one run. Prints both and their ratio. Not part of the test suite.

    python bench/throughput.py [--messages 20000] [--enrollments 300] [--postgres]

Raw: an idempotent aiokafka producer (acks=all) sends N messages of event size to a
6-partition topic while a consumer group reads them all; rate = N / wall time.
Flow: two nodes as OS processes; N members at the enterprise node ask for seats in one
programme of the superior node at once; rate = N / time until every member has been
decided at the owner, learnt the outcome at home and received the e-mail.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deploy.local.federation import ENTERPRISE_NODE, SUPERIOR_NODE, Federation, launch
from deploy.local.node import SERVICES
from deploy.local.smtp import SmtpSink
from shared.contracts.topics import TopicSpec
from shared.kafka.connection import KafkaConnection
from shared.kafka.topics import ensure_topics
from tests import infra
from tests.e2e.helpers import enrol_all, messages_to, new_members, wait_until


async def raw_kafka(kafka: KafkaConnection, count: int, size: int = 600) -> float:
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka, [TopicSpec(topic, 6)])
    consumer = AIOKafkaConsumer(
        topic,
        **kafka.aiokafka(),
        group_id=f"{topic}.g",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=2000,
    )
    producer = AIOKafkaProducer(
        **kafka.aiokafka(), enable_idempotence=True, acks="all", linger_ms=5
    )
    await consumer.start()
    await producer.start()
    payload = b"x" * size

    async def consume() -> None:
        seen = 0
        while seen < count:
            batch = await consumer.getmany(timeout_ms=1000)
            seen += sum(len(records) for records in batch.values())
            await consumer.commit()

    started = time.perf_counter()
    reader = asyncio.create_task(consume())
    futures = [await producer.send(topic, payload, key=str(i % 500).encode()) for i in range(count)]
    await asyncio.gather(*futures)
    await reader
    elapsed = time.perf_counter() - started
    await producer.stop()
    await consumer.stop()
    return count / elapsed


def flow(federation: Federation, smtp: SmtpSink, count: int) -> float:
    members = new_members(federation, count)
    programme = federation.publish_programme(SUPERIOR_NODE, "zj-hz", capacity=count)
    pid = programme["programme_id"]
    admin = federation.admin(ENTERPRISE_NODE)
    admin.wait_for(f"/programmes/{pid}", lambda body: True)
    emails = {m["email"] for m in members}
    started = time.perf_counter()
    enrol_all(federation, members, pid)
    wait_until(lambda: all(messages_to(smtp, emails).values()), 600, "all e-mails")
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--enrollments", type=int, default=300)
    parser.add_argument("--postgres", action="store_true", help="services on PostgreSQL")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bigschool-bench-"))
    with infra.kafka_cluster() as cluster, infra.smtp_sink() as smtp:
        kafka = cluster.admin
        raw = asyncio.run(raw_kafka(kafka, args.messages))
        print(f"raw aiokafka produce+consume: {raw:,.0f} messages/s ({args.messages} messages)")
        urls = None
        with infra.postgres_server() if args.postgres else _nothing() as pg:
            if pg is not None:
                urls = {
                    n: {s: pg.create_database(infra.unique_db_name(f"b_{n}_{s}")) for s in SERVICES}
                    for n in (SUPERIOR_NODE, ENTERPRISE_NODE)
                }
            with launch(kafka, work, smtp_port=smtp.port, database_urls=urls) as federation:
                rate = flow(federation, smtp, args.enrollments)
    engine = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"enrollment flow ({engine}): {rate:,.1f} enrollments confirmed and notified/s "
        f"({args.enrollments} enrollments)"
    )
    print(
        f"ratio raw/flow: {raw / rate:,.0f}x (each enrollment is 4 hops, 5 transactions, "
        f"1 SMTP send across 2 nodes)"
    )


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    main()
