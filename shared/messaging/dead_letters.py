"""Dead letters: a message a consumer cannot use goes to `<topic>.dlq`, byte for byte, with
headers saying why — the error type and field location, never the offending values (they
may be personal data) — and which consumer gave up."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from shared.contracts.topics import dlq

if TYPE_CHECKING:
    from shared.messaging.outbox import Producer

DLQ_PREFIX = "bigschool_dlq_"


class RecordLike(Protocol):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


class DeadLetterSink(Protocol):
    """Where a consumer parks what it cannot use: `DeadLetters`, or a test's fake."""

    async def send(self, record: RecordLike, reason: str, fields: Sequence[str] = ()) -> None: ...


def field_path(loc: Iterable[Any]) -> str:
    return ".".join(str(part) for part in loc)


class DeadLetters:
    def __init__(self, producer: Producer, consumer: str) -> None:
        self.producer = producer
        self.consumer = consumer

    async def send(self, record: RecordLike, reason: str, fields: Sequence[str] = ()) -> None:
        """Publish and wait for the broker's acknowledgement (the caller then commits)."""
        extra = {
            "reason": reason,
            "fields": ",".join(fields),
            "consumer": self.consumer,
            "topic": record.topic,
            "partition": str(record.partition),
            "offset": str(record.offset),
            "at": datetime.now(UTC).isoformat(),
        }
        headers = [(k, v) for k, v in record.headers if not k.startswith(DLQ_PREFIX)]
        headers += [(DLQ_PREFIX + k, v.encode()) for k, v in extra.items()]
        await self.producer.kafka.send_and_wait(
            dlq(record.topic), value=record.value, key=record.key, headers=headers
        )


def original_headers(headers: Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Headers of a dead letter without what the dead-lettering added (for a re-drive)."""
    return [(k, v) for k, v in headers if not k.startswith(DLQ_PREFIX)]
