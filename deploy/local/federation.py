"""The demo federation's shape and how to seed it through the public APIs.

zj (superior, node zj)
└── zj-hz (superior, node zj)
    ├── hzsteel (enterprise, node hzsteel)
    │   ├── hzsteel-rolling (grassroots, node hzsteel)
    │   └── hzsteel-smelting (grassroots, node hzsteel)
    └── hzbus (enterprise, node hzbus)
        └── hzbus-depot (grassroots, node hzbus)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from deploy.local.client import ServiceClient, Tokens
from deploy.local.node import Node
from shared.auth.keys import generate_keys
from shared.kafka.connection import KafkaConnection
from shared.kafka.provision import provision
from shared.orgs.signing import generate_node_key

SUPERIOR_NODE, ENTERPRISE_NODE, SECOND_ENTERPRISE_NODE = "zj", "hzsteel", "hzbus"
# (node that registers it, admin of which org, the org): an org is registered by an admin of
# its parent at the parent's node; `hzsteel` is the enterprise node's root, admitted by zj-hz.
ORGS: list[tuple[str, str, dict[str, Any]]] = [
    (SUPERIOR_NODE, "zj", {"org_id": "zj", "name": "浙江省总工会", "level": "superior"}),
    (
        SUPERIOR_NODE,
        "zj",
        {"org_id": "zj-hz", "name": "杭州市总工会", "parent_id": "zj", "level": "superior"},
    ),
    (
        SUPERIOR_NODE,
        "zj-hz",
        {
            "org_id": "hzsteel",
            "name": "杭钢集团工会",
            "parent_id": "zj-hz",
            "level": "enterprise",
            "hosted_by": ENTERPRISE_NODE,
        },
    ),
    (
        SUPERIOR_NODE,
        "zj-hz",
        {
            "org_id": "hzbus",
            "name": "杭州公交集团工会",
            "parent_id": "zj-hz",
            "level": "enterprise",
            "hosted_by": SECOND_ENTERPRISE_NODE,
        },
    ),
    (
        SECOND_ENTERPRISE_NODE,
        "hzbus",
        {
            "org_id": "hzbus-depot",
            "name": "公交一场工会",
            "parent_id": "hzbus",
            "level": "grassroots",
        },
    ),
    (
        ENTERPRISE_NODE,
        "hzsteel",
        {
            "org_id": "hzsteel-rolling",
            "name": "轧钢车间工会",
            "parent_id": "hzsteel",
            "level": "grassroots",
        },
    ),
    (
        ENTERPRISE_NODE,
        "hzsteel",
        {
            "org_id": "hzsteel-smelting",
            "name": "炼钢车间工会",
            "parent_id": "hzsteel",
            "level": "grassroots",
        },
    ),
]
ROOTS = {SUPERIOR_NODE: "zj", ENTERPRISE_NODE: "hzsteel", SECOND_ENTERPRISE_NODE: "hzbus"}


@dataclass
class Federation:
    nodes: dict[str, Node]
    tokens: Tokens

    def client(
        self,
        node: str,
        service: str,
        *,
        org: str,
        roles: str,
        sub: str,
        member_id: str | None = None,
    ) -> ServiceClient:
        token = self.tokens.issue(node=node, org=org, roles=roles, sub=sub, member_id=member_id)
        return ServiceClient(self.nodes[node].url(service), token)

    def admin(self, node: str, service: str = "enrollment") -> ServiceClient:
        return self.client(node, service, org=ROOTS[node], roles="admin", sub=f"admin@{node}")

    def register_orgs(self) -> None:
        """An admin of each org's parent registers it at the parent's node, once the parent
        has replicated there."""
        for node, admin_of, org in ORGS:
            admin = self.client(
                node, "enrollment", org=admin_of, roles="admin", sub=f"admin@{admin_of}"
            )
            if parent := org.get("parent_id"):
                admin.wait_for(f"/orgs/{parent}", lambda body: True)
            admin.post("/orgs", org)
            admin.close()

    def register_member(self, node: str, org: str, **fields: Any) -> dict[str, Any]:
        cadre = self.client(node, "enrollment", org=org, roles="cadre", sub=f"cadre@{org}")
        try:
            return cadre.post("/members", {"home_org": org, **fields})
        finally:
            cadre.close()

    def publish_programme(
        self, node: str, owner_org: str, capacity: int, **fields: Any
    ) -> dict[str, Any]:
        cadre = self.client(
            node, "enrollment", org=owner_org, roles="cadre", sub=f"cadre@{owner_org}"
        )
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
        body = {
            "owner_org": owner_org,
            "title": "Safe operation of rolling mills",
            "kind": "training_course",
            "quality_area": "safety_health",
            "capacity": capacity,
            "hours": 8,
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(days=1)).isoformat(),
            **fields,
        }
        try:
            return cadre.post("/programmes", body)
        finally:
            cadre.close()

    def member_client(
        self, node: str, member: dict[str, Any], service: str = "enrollment"
    ) -> ServiceClient:
        return self.client(
            node,
            service,
            org=member["home_org"],
            roles="member",
            sub=f"member:{member['member_id']}",
            member_id=member["member_id"],
        )


@contextmanager
def launch(
    kafka_admin: KafkaConnection,
    work_dir: Path,
    *,
    smtp_port: int,
    partitions: int = 6,
    database_urls: dict[str, dict[str, str]] | None = None,
    ports: dict[str, dict[str, int]] | None = None,
    extra_env: dict[str, str] | None = None,
    service_env: dict[str, dict[str, str]] | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> Iterator[Federation]:
    """Provision the cluster for both demo nodes (topics, one principal per node, ACLs), start
    them as OS processes (SQLite unless database URLs are given), register the org tree, yield
    the federation; stop every process on exit."""
    _, jwks = generate_keys(work_dir / "keys")
    node_key_paths = {node: generate_node_key(work_dir / "keys", node)[0] for node in ROOTS}
    progress("provisioning Kafka: topics, node principals, ACLs …")
    principals = asyncio.run(
        provision(kafka_admin, list(ROOTS), work_dir / "kafka-secrets", partitions=partitions)
    )
    nodes = {
        node: Node(
            node,
            root,
            work_dir / node,
            principals[node],
            jwks,
            node_key_paths[node],
            work_dir / "keys" / "federation-jwks.json",
            database_urls=(database_urls or {}).get(node, {}),
            smtp_port=smtp_port,
            ports=(ports or {}).get(node, {}),
            extra_env=extra_env or {},
            service_env=service_env or {},
        )
        for node, root in ROOTS.items()
    }
    try:
        progress(f"starting nodes {', '.join(nodes)} …")
        for node in nodes.values():  # every process at once: they start in parallel
            node.spawn()
        for node in nodes.values():
            node.wait_ready()
        federation = Federation(nodes, Tokens(work_dir / "keys"))
        progress("registering the org tree …")
        federation.register_orgs()
        yield federation
    finally:
        for node in nodes.values():
            node.stop()
