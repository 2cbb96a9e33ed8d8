"""Creating topics (provisioning, as the admin) and checking they are there (every service at
start, as its node's principal, which may not create topics)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from shared.contracts.topics import TopicSpec
from shared.kafka.connection import KafkaConnection

log = logging.getLogger(__name__)

TOPIC_ALREADY_EXISTS = TopicAlreadyExistsError.errno


class MissingTopics(RuntimeError):
    """Topics a service needs are absent, or its principal may not see them."""


async def ensure_topics(
    kafka: KafkaConnection, specs: Iterable[TopicSpec], replication: int = 1
) -> list[str]:
    """Create the topics that are missing; leave existing ones exactly as they are (a partition
    count is never raised on a live topic). Returns the names created."""
    admin = AIOKafkaAdminClient(**kafka.aiokafka())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        created: list[str] = []
        for spec in missing:
            topic = NewTopic(spec.name, spec.partitions, replication, topic_configs=spec.config())
            try:
                response = await admin.create_topics([topic])
            except TopicAlreadyExistsError:
                continue  # another process won the race
            _raise_for_errors(response)
            created.append(spec.name)
            log.info("created topic %s (%d partitions)", spec.name, spec.partitions)
        return created
    finally:
        await admin.close()


def _raise_for_errors(response: Any) -> None:
    # aiokafka returns (not raises) per-topic errors such as an authorization failure.
    for topic, code, *rest in getattr(response, "topic_errors", []):
        if code and code != TOPIC_ALREADY_EXISTS:
            message = rest[0] if rest and rest[0] else for_code(code).__name__
            raise for_code(code)(f"creating topic {topic}: {message}")


async def require_topics(kafka: KafkaConnection, names: Iterable[str]) -> None:
    """Fail with a clear error when a topic this service uses is absent or not visible to its
    principal: services never create topics, provisioning does."""
    admin = AIOKafkaAdminClient(**kafka.aiokafka())
    await admin.start()
    try:
        visible = set(await admin.list_topics())
    finally:
        await admin.close()
    missing = sorted(set(names) - visible)
    if missing:
        raise MissingTopics(
            f"{len(missing)} topic(s) missing or not allowed for {kafka.principal}: "
            f"{', '.join(missing)} — run `python -m shared.kafka.provision` for this node"
        )
