"""The federation's Kafka topics, node principals and their ACLs as Strimzi resources:
what `python -m shared.kafka.provision` creates, declared for Strimzi's Topic and User
Operators instead. Both are made from the same functions (`federation_topics`,
`node_grants`, `integrator_grants`), so they cannot drift apart.

    python -m deploy.k8s.strimzi --nodes zj,hzsteel,hzbus --out deploy/k8s/kafka

writes `topics.yaml` (a KafkaTopic per topic) and `users.yaml` (a KafkaUser per node and
integrator, SCRAM-SHA-512, with its ACLs). Run it again when a node joins, as provisioning
would be: every node gains Write on the newcomer's inbox.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from kafka.admin import ACLOperation, ACLResourcePatternType, ResourceType

from shared.kafka.provision import (
    NODE_ID,
    Grant,
    federation_topics,
    integrator_grants,
    node_grants,
)

API_VERSION = "kafka.strimzi.io/v1"
RESOURCE_TYPES = {ResourceType.TOPIC: "topic", ResourceType.GROUP: "group"}
PATTERNS = {ACLResourcePatternType.LITERAL: "literal", ACLResourcePatternType.PREFIXED: "prefix"}
OPERATIONS = {ACLOperation.READ: "Read", ACLOperation.WRITE: "Write"}
HEADER = (
    "# Generated: python -m deploy.k8s.strimzi {args}\n"
    "# Change shared/kafka/provision.py or shared/contracts/topics.py and run it again;\n"
    "# never edit this file by hand.\n"
)


def kafka_topic(spec_name: str, partitions: int, replicas: int, config: dict[str, str]) -> dict:
    return {
        "apiVersion": API_VERSION,
        "kind": "KafkaTopic",
        "metadata": {"name": spec_name},
        "spec": {"partitions": partitions, "replicas": replicas, "config": config},
    }


def acl_rules(grants: Sequence[Grant]) -> list[dict[str, Any]]:
    """One Strimzi rule per resource, its operations in the order they were granted."""
    rules: dict[tuple[str, str, str], list[str]] = {}
    for grant in grants:
        for mapping, value in (
            (RESOURCE_TYPES, grant.resource),
            (PATTERNS, grant.pattern),
            (OPERATIONS, grant.operation),
        ):
            if value not in mapping:
                raise ValueError(f"no Strimzi equivalent for {value!r} in {grant}")
        key = (RESOURCE_TYPES[grant.resource], grant.name, PATTERNS[grant.pattern])
        rules.setdefault(key, []).append(OPERATIONS[grant.operation])
    return [
        {
            "resource": {"type": kind, "name": name, "patternType": pattern},
            "operations": operations,
            "host": "*",
            "type": "allow",
        }
        for (kind, name, pattern), operations in rules.items()
    ]


def kafka_user(name: str, grants: Sequence[Grant]) -> dict[str, Any]:
    # The User Operator generates the password into the Secret `name` (key `password`).
    return {
        "apiVersion": API_VERSION,
        "kind": "KafkaUser",
        "metadata": {"name": name},
        "spec": {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": acl_rules(grants)},
        },
    }


def topics_documents(nodes: Sequence[str], partitions: int, replicas: int) -> list[dict]:
    return [
        kafka_topic(spec.name, spec.partitions, replicas, spec.config())
        for spec in federation_topics(nodes, partitions)
    ]


def users_documents(nodes: Sequence[str], integrators: Sequence[str] = ()) -> list[dict]:
    for name in [*nodes, *integrators]:
        if not NODE_ID.match(name):
            raise ValueError(f"not a node or integrator id: {name!r} (a lowercase slug)")
    users = [kafka_user(node, node_grants(node, nodes)) for node in nodes]
    return users + [kafka_user(name, integrator_grants(name)) for name in integrators]


def dump(documents: list[dict], args: str) -> str:
    body = yaml.safe_dump_all(documents, sort_keys=False, explicit_start=False, width=100)
    return HEADER.format(args=args) + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.k8s.strimzi", description=__doc__)
    parser.add_argument("--nodes", required=True, help="comma-separated node ids")
    parser.add_argument("--integrators", default="", help="comma-separated reader principals")
    parser.add_argument("--partitions", type=int, default=6, help="of every node topic")
    parser.add_argument("--replication", type=int, default=3, help="replicas of every topic")
    parser.add_argument("--out", type=Path, required=True, help="folder for the two files")
    args = parser.parse_args(argv)
    nodes = [n for n in args.nodes.split(",") if n]
    integrators = [n for n in args.integrators.split(",") if n]
    if not nodes:
        parser.error("--nodes names no node")
    if args.partitions < 1 or args.replication < 1:
        parser.error("--partitions and --replication must be at least 1")
    try:
        users = users_documents(nodes, integrators)
    except ValueError as error:
        parser.error(str(error))
    shown = " ".join(argv if argv is not None else sys.argv[1:])
    args.out.mkdir(parents=True, exist_ok=True)
    topics = topics_documents(nodes, args.partitions, args.replication)
    (args.out / "topics.yaml").write_text(dump(topics, shown), encoding="utf-8")
    (args.out / "users.yaml").write_text(dump(users, shown), encoding="utf-8")
    print(f"{len(topics)} KafkaTopics, {len(users)} KafkaUsers in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
