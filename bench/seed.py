"""Set-up data written straight into a migrated enrollment database (not measured): a small org
tree, one programme, members — and the settings of an enrollment service of a bench node."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from enrollment.models import ORGS, Member, Programme
from enrollment.settings import EnrollmentSettings
from shared.auth.keys import generate_keys
from shared.db import Database
from shared.kafka.connection import KafkaConnection, KafkaSettings
from shared.orgs.signing import generate_node_key

# Rate limits stay on (their cost is part of the path) but never bite a benchmark's one caller.
UNLIMITED = {
    "BIGSCHOOL_RATE_LIMIT_READ": "100000000/minute",
    "BIGSCHOOL_RATE_LIMIT_WRITE": "100000000/minute",
}


@dataclass(frozen=True)
class Tree:
    """owner org (superior, at the owner node) ← home root (enterprise) ← grassroots org."""

    owner_node: str
    home_node: str
    owner_org: str
    home_root: str
    grassroots: str

    def rows(self, now: datetime) -> list[dict[str, Any]]:
        return [
            _org(self.owner_org, None, "superior", self.owner_node, now),
            _org(self.home_root, self.owner_org, "enterprise", self.home_node, now),
            _org(self.grassroots, self.home_root, "grassroots", self.home_node, now),
        ]


def tree(owner_node: str, home_node: str) -> Tree:
    t = uuid.uuid4().hex[:6]
    return Tree(owner_node, home_node, f"b{t}-owner", f"b{t}-home", f"b{t}-shop")


def _org(org_id: str, parent: str | None, level: str, node: str, now: datetime) -> dict[str, Any]:
    return {
        "org_id": org_id,
        "name": org_id.upper(),
        "parent_id": parent,
        "level": level,
        "hosted_by": node,
        "updated_at": now,
    }


async def seed(url: str, orgs: Tree, *, capacity: int, members: int = 0) -> tuple[str, list[str]]:
    """Write the org tree, one programme of the owner org open to its subtree, and `members`
    members of the grassroots org; return the programme id and the member ids."""
    now = datetime.now(UTC)
    programme_id = str(uuid.uuid4())
    start = now.replace(microsecond=0) + timedelta(days=7)
    member_ids = [str(uuid.uuid4()) for _ in range(members)]
    db = Database(url)
    try:
        async with db.transaction() as session:
            await session.execute(insert(ORGS), orgs.rows(now))
            session.add(
                Programme(
                    programme_id=programme_id,
                    owner_org=orgs.owner_org,
                    owner_node=orgs.owner_node,
                    title="Safe operation of rolling mills",
                    kind="training_course",
                    quality_area="safety_health",
                    audience=[orgs.owner_org],
                    capacity=capacity,
                    hours=8,
                    starts_at=start,
                    ends_at=start + timedelta(days=1),
                    confirmed_count=0,
                    next_sequence=1,
                    created_at=now,
                )
            )
            if member_ids:
                await session.execute(
                    insert(Member),
                    [
                        {
                            "member_id": m,
                            "home_org": orgs.grassroots,
                            "name": f"Worker {m[:8]}",
                            "email": f"w{m[:12]}@members.example",
                            "phone": None,
                            "employee_no": None,
                            "language": "en",
                            "created_at": now,
                        }
                        for m in member_ids
                    ],
                )
    finally:
        await db.dispose()
    return programme_id, member_ids


def keys(folder: Path, node: str) -> tuple[Path, Path, Path]:
    """JWT issuer keys (private, JWKS) and this node's org-tree signing key; the federation
    JWKS is `folder/federation-jwks.json`."""
    private, jwks = generate_keys(folder)
    node_key, _ = generate_node_key(folder, node)
    return private, jwks, node_key


def enrollment_settings(
    kafka: KafkaConnection, node: str, root_org: str, url: str, folder: Path
) -> EnrollmentSettings:
    """An enrollment service of bench node `node`, connecting to Kafka as `kafka`."""
    _, jwks, node_key = keys(folder, node)
    return EnrollmentSettings(
        node_id=node,
        root_org=root_org,
        database_url=url,
        kafka=KafkaSettings(
            bootstrap_servers=kafka.bootstrap_servers,
            security_protocol=kafka.security_protocol,
            sasl_mechanism=kafka.sasl_mechanism,
            sasl_username=kafka.username,
            sasl_password=kafka.password,
        ),
        migrate_on_start=False,
        jwt_jwks_path=jwks,
        node_key_path=node_key,
        federation_jwks_path=folder / "federation-jwks.json",
    )
