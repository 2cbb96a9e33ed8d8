"""Re-drive dead letters to the topic they came from, once the cause is fixed.

    python -m shared.messaging.redrive bigschool.enrollment.v1.dlq [--consumer GROUP] [--max N]

Reads the DLQ with its own consumer group (so each letter is re-driven once), republishes
the original key, value and headers (without the dead-letter headers) to the original
topic, and commits after each batch is acknowledged. `--consumer` re-drives only the
letters one consumer gave up on. Prints progress.
"""

from __future__ import annotations

import argparse
import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.kafka.connection import KafkaConnection, KafkaSettings
from shared.messaging.dead_letters import DLQ_PREFIX, original_headers


async def redrive(
    kafka: KafkaConnection, dlq_topic: str, consumer_filter: str | None, limit: int | None
) -> int:
    consumer = AIOKafkaConsumer(
        dlq_topic,
        **kafka.aiokafka(),
        group_id=f"bigschool.redrive.{dlq_topic}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(**kafka.aiokafka(), enable_idempotence=True)
    await consumer.start()
    await producer.start()
    moved = 0
    try:
        while limit is None or moved < limit:
            batch = await consumer.getmany(timeout_ms=2000, max_records=500)
            records = [r for rs in batch.values() for r in rs]
            if not records:
                break
            sends = []
            for record in records:
                headers = dict(record.headers)
                if consumer_filter and headers.get(f"{DLQ_PREFIX}consumer", b"").decode() != (
                    consumer_filter
                ):
                    continue
                topic = headers.get(f"{DLQ_PREFIX}topic", b"").decode()
                if not topic:
                    continue
                sends.append(
                    await producer.send(
                        topic,
                        record.value,
                        key=record.key,
                        headers=original_headers(record.headers),
                    )
                )
            await asyncio.gather(*sends)
            await consumer.commit()
            moved += len(sends)
            print(f"re-driven {moved} dead letters from {dlq_topic}", flush=True)
    finally:
        await producer.stop()
        await consumer.stop()
    return moved


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dlq_topic")
    parser.add_argument("--consumer", help="only letters this consumer group gave up on")
    parser.add_argument("--max", type=int, default=None)
    args = parser.parse_args()
    if not args.dlq_topic.endswith(".dlq"):
        parser.error("give a dead-letter topic (ending in .dlq)")
    kafka = KafkaSettings().connection()  # an operator principal, from the KAFKA_* environment
    total = asyncio.run(redrive(kafka, args.dlq_topic, args.consumer, args.max))
    print(f"done: {total} re-driven")


if __name__ == "__main__":
    main()
