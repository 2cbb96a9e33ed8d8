"""Provision a federation's Kafka cluster from its node list: topics, one principal per node,
and the ACLs that keep each node to what is its own. Safe to run again (everything is
created only when missing, passwords are kept); run it again when a node joins, so that
every node may write the newcomer's inbox.

    python -m shared.kafka.provision --nodes zj,hzsteel --secrets-dir /etc/bigschool/kafka

The admin principal comes from the usual KAFKA_* environment (see shared.kafka.connection).
Each node's password is read from `<secrets-dir>/<node>.password`, made there (0600) when
missing; hand it to that node's services as KAFKA_SASL_PASSWORD_FILE.

What a node principal `User:<node>` may do (and nothing else):
- read and write the federation topics; write their dead-letter topics;
- read and write every topic under `bigschool.node.<node>.` (its inbox, its local topics and
  their dead-letter topics);
- write every other node's inbox (never read it, never touch its local topics);
- use consumer groups under `bigschool.<node>.`.
An integrator principal (`--integrators`) reads the federation topics with groups under
`<name>.`.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kafka.admin import (
    ACL,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    KafkaAdminClient,
    ResourcePattern,
    ResourceType,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from shared.contracts import topics
from shared.contracts.topics import TopicSpec, node_topics
from shared.kafka.connection import KafkaConnection, KafkaSettings
from shared.kafka.topics import ensure_topics

NODE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
FEDERATION_TOPICS = (topics.FEDERATION, topics.ENROLLMENT, topics.AWARDS, topics.STATS)
Literal, Prefixed = ACLResourcePatternType.LITERAL, ACLResourcePatternType.PREFIXED
Read, Write = ACLOperation.READ, ACLOperation.WRITE


@dataclass(frozen=True)
class Grant:
    """One permission of one principal: an operation on a topic or group name (or prefix)."""

    resource: ResourceType
    name: str
    pattern: ACLResourcePatternType
    operation: ACLOperation

    def acl(self, principal: str) -> ACL:
        return ACL(
            principal,
            "*",
            self.operation,
            ACLPermissionType.ALLOW,
            ResourcePattern(self.resource, self.name, self.pattern),
        )


def node_grants(node: str, nodes: Iterable[str]) -> list[Grant]:
    topic, group = ResourceType.TOPIC, ResourceType.GROUP
    grants = [Grant(topic, name, Literal, op) for name in FEDERATION_TOPICS for op in (Read, Write)]
    grants += [Grant(topic, topics.dlq(name), Literal, Write) for name in FEDERATION_TOPICS]
    grants += [Grant(topic, f"bigschool.node.{node}.", Prefixed, op) for op in (Read, Write)]
    grants += [
        Grant(topic, topics.inbox(other), Literal, Write) for other in nodes if other != node
    ]
    grants.append(Grant(group, f"bigschool.{node}.", Prefixed, Read))
    return grants


def integrator_grants(name: str) -> list[Grant]:
    grants = [Grant(ResourceType.TOPIC, t, Literal, Read) for t in FEDERATION_TOPICS]
    grants.append(Grant(ResourceType.GROUP, f"{name}.", Prefixed, Read))
    return grants


def federation_topics(nodes: Iterable[str], partitions: int) -> list[TopicSpec]:
    """Every topic of every node, once."""
    specs: dict[str, TopicSpec] = {}
    for node in nodes:
        for spec in node_topics(node, partitions):
            specs.setdefault(spec.name, spec)
    return list(specs.values())


def node_password(secrets_dir: Path, principal: str) -> str:
    """The principal's password from `<dir>/<principal>.password`, made once when missing."""
    path = secrets_dir / f"{principal}.password"
    if not path.is_file():
        secrets_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(24) + "\n")
    return path.read_text().strip()


class AccessAdmin:
    """SCRAM users and ACLs through kafka-python's admin client (aiokafka has no such calls)."""

    def __init__(self, admin: KafkaConnection) -> None:
        self.client = KafkaAdminClient(client_id="bigschool-provision", **admin.kafka_python())

    def close(self) -> None:
        self.client.close()

    def ensure_user(self, name: str, password: str) -> None:
        upsert = UserScramCredentialUpsertion(name, ScramMechanism.SCRAM_SHA_512, password)
        errors = self.client.alter_user_scram_credentials([upsert])
        if failed := {user: err for user, err in errors.items() if err}:
            raise RuntimeError(f"could not set the SCRAM credential of {failed}")

    def ensure_grants(self, principal: str, grants: Sequence[Grant]) -> None:
        # Creating an ACL that exists already is a no-op on the broker: safe to repeat.
        result = self.client.create_acls([g.acl(principal) for g in grants])
        if result["failed"]:
            raise RuntimeError(f"ACLs refused for {principal}: {result['failed']}")


async def provision(
    admin: KafkaConnection,
    nodes: Sequence[str],
    secrets_dir: Path,
    *,
    partitions: int = 6,
    replication: int = 1,
    integrators: Sequence[str] = (),
    acls: bool = True,
) -> dict[str, KafkaConnection]:
    """Topics, principals and ACLs for `nodes`; returns each node's own connection."""
    for name in [*nodes, *integrators]:
        if not NODE_ID.match(name):
            raise ValueError(f"not a node or integrator id: {name!r} (a lowercase slug)")
    await ensure_topics(admin, federation_topics(nodes, partitions), replication)
    if not acls:
        return {node: admin for node in nodes}
    principals = [(n, node_grants(n, nodes)) for n in nodes]
    principals += [(i, integrator_grants(i)) for i in integrators]
    passwords = {name: node_password(secrets_dir, name) for name, _ in principals}
    await asyncio.to_thread(_grant_all, admin, principals, passwords)
    return {node: admin.as_user(node, passwords[node]) for node in nodes}


def _grant_all(
    admin: KafkaConnection,
    principals: list[tuple[str, list[Grant]]],
    passwords: dict[str, str],
) -> None:
    access = AccessAdmin(admin)
    try:
        for name, grants in principals:
            access.ensure_user(name, passwords[name])
            access.ensure_grants(f"User:{name}", grants)
    finally:
        access.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.kafka.provision", description=__doc__)
    parser.add_argument("--nodes", required=True, help="comma-separated node ids")
    parser.add_argument("--secrets-dir", type=Path, required=True, help="node password files")
    parser.add_argument("--partitions", type=int, default=6, help="for topics created now")
    parser.add_argument("--replication", type=int, default=1, help="for topics created now")
    parser.add_argument("--integrators", default="", help="comma-separated reader principals")
    parser.add_argument(
        "--no-acls", action="store_true", help="topics only (a broker without an authorizer)"
    )
    args = parser.parse_args(argv)
    nodes = [n for n in args.nodes.split(",") if n]
    integrators = [n for n in args.integrators.split(",") if n]
    admin = KafkaSettings().connection()
    asyncio.run(
        provision(
            admin,
            nodes,
            args.secrets_dir,
            partitions=args.partitions,
            replication=args.replication,
            integrators=integrators,
            acls=not args.no_acls,
        )
    )
    for name in [*nodes, *integrators]:
        print(f"{name}: principal User:{name}, password {args.secrets_dir / f'{name}.password'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
