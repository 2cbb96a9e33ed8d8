"""Test doubles of the messaging layer, for unit tests of handlers.

They let a test drive ``IdempotentConsumer.process(record)`` record by record, as the Kafka
subscriber would, without a broker: ``record_for`` builds the record of an event, and
``FakeDeadLetters`` keeps what would have gone to ``<topic>.dlq``. Not used by services.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.contracts.base import Event
from shared.contracts.envelope import Envelope
from shared.messaging.dead_letters import DeadLetters, RecordLike


@dataclass
class FakeRecord:
    """What ``IdempotentConsumer`` reads of an aiokafka ``ConsumerRecord``."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


def record_for(
    event: Event,
    envelope: Envelope,
    *,
    topic: str,
    offset: int = 0,
    value: bytes | None = None,
) -> FakeRecord:
    """The record a producer of `event` would have written: the envelope as CloudEvents
    headers, the event's key, and its JSON body — or `value` instead, to test bad input."""
    body = event.model_dump_json().encode() if value is None else value
    return FakeRecord(topic, 0, offset, event.key().encode(), body, envelope.headers())


@dataclass(frozen=True)
class DeadLetter:
    record: RecordLike
    reason: str
    fields: list[str]


class FakeDeadLetters(DeadLetters):
    """Keeps what would go to ``<topic>.dlq`` in ``sent``, instead of producing it."""

    def __init__(self) -> None:
        super().__init__(producer=None, consumer="test")  # type: ignore[arg-type]
        self.sent: list[DeadLetter] = []

    async def send(self, record: RecordLike, reason: str, fields: Sequence[str] = ()) -> None:
        self.sent.append(DeadLetter(record, reason, list(fields)))
