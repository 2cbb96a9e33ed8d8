"""A service run as several worker processes (BIGSCHOOL_HTTP_WORKERS, PostgreSQL): the e2e
federation runs every enrollment service as two workers. Their consumers share each group,
and exactly one outbox relay holds the lease."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from kafka.admin import KafkaAdminClient

from deploy.local.federation import ROOTS
from shared.messaging.outbox import RELAY_LOCK_ID
from tests.e2e.conftest import RunningFederation
from tests.e2e.helpers import query, wait_until

pytestmark = pytest.mark.e2e


def processes_in_group(pgid: int) -> int:
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    count += 1
            except ProcessLookupError:
                pass
    return count


@pytest.mark.parametrize("node", sorted(ROOTS))
def test_two_workers_share_the_consumer_groups_and_one_holds_the_relay_lease(
    running_federation: RunningFederation, node: str
) -> None:
    fed = running_federation
    service = fed.node(node).services["enrollment"]
    assert service.proc is not None
    assert processes_in_group(service.proc.pid) >= 3  # the server and its two workers

    admin = KafkaAdminClient(client_id="e2e-groups", **fed.kafka.kafka_python())
    try:
        group = f"bigschool.{node}.enrollment.requests"

        def members() -> int:
            return len(admin.describe_groups([group])[group].get("members", []))

        assert wait_until(lambda: members() == 2, 60, f"two members in {group}")
    finally:
        admin.close()

    holders = query(
        fed.database_urls[node]["enrollment"],
        "SELECT count(*) AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objid = $1 "
        "AND d.datname = current_database()",
        RELAY_LOCK_ID,
    )
    assert holders[0]["n"] == 1
