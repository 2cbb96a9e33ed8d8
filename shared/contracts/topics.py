"""Topic names and their layout (`shared.kafka.provision` creates them).

Partition counts are fixed when a topic is created and never raised afterwards (that
would break per-key order): a change of layout is a new `.vN` topic.
"""

from __future__ import annotations

from dataclasses import dataclass

FEDERATION = "bigschool.federation.v1"
ENROLLMENT = "bigschool.enrollment.v1"
AWARDS = "bigschool.awards.v1"
STATS = "bigschool.stats.v1"

DAY_MS = 24 * 3600 * 1000


def inbox(node: str) -> str:
    """Requests addressed to one node; only that node reads it."""
    return f"bigschool.node.{node}.inbox.v1"


def members(node: str) -> str:
    """Member and staff records with contact data: never leaves the node."""
    return f"bigschool.node.{node}.members.v1"


def dlq(topic: str) -> str:
    return f"{topic}.dlq"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    compacted: bool = False
    retention_ms: int = 30 * DAY_MS

    def config(self) -> dict[str, str]:
        if self.compacted:
            return {"cleanup.policy": "compact", "min.compaction.lag.ms": str(3600 * 1000)}
        return {"cleanup.policy": "delete", "retention.ms": str(self.retention_ms)}

    def dead_letters(self) -> TopicSpec:
        # Dead letters wait for a person: kept longer, never compacted, one partition.
        return TopicSpec(dlq(self.name), partitions=1, retention_ms=90 * DAY_MS)


def node_topics(node: str, partitions: int) -> list[TopicSpec]:
    """Every topic a node's services read or write, with their dead-letter topics."""
    specs = [
        TopicSpec(FEDERATION, partitions, compacted=True),
        TopicSpec(ENROLLMENT, partitions),
        TopicSpec(AWARDS, partitions),
        TopicSpec(STATS, partitions, compacted=True),
        TopicSpec(inbox(node), partitions),
        TopicSpec(members(node), partitions, retention_ms=7 * DAY_MS),
    ]
    return specs + [s.dead_letters() for s in specs]
