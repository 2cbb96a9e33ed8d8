"""The broker and the database go away in the middle of a flow and come back: nothing is
lost, nothing is doubled, and no consumer group is left stuck. Every service runs as its own
process; the broker and PostgreSQL are the real ones, stopped and started again."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import httpx
import pytest

from deploy.local.federation import ENTERPRISE_NODE, SUPERIOR_NODE
from deploy.local.postgres import LocalPostgres
from tests.e2e.conftest import RunningFederation
from tests.e2e.helpers import GaugeWatch, messages_to, new_members, ops_gauges, wait_until
from tests.e2e.test_enrollment_flow import home_statuses, owner_statuses, publish

pytestmark = pytest.mark.e2e


RETRIES: list[int] = []  # one entry per retried POST


def enrol_until_accepted(fed: RunningFederation, member: dict[str, Any], pid: str) -> str:
    """A careful client: retries a failed POST with the same Idempotency-Key until the home
    node accepts it (a 503 while its database is away), so a retry can never enrol twice."""
    client = fed.federation.member_client(ENTERPRISE_NODE, member)
    key = str(uuid.uuid4())
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                response = client.http.post(
                    "/enrollments", json={"programme_id": pid}, headers={"Idempotency-Key": key}
                )
                if response.status_code == 202:
                    return str(response.json()["id"])
                assert response.status_code >= 500, response.text  # only an outage is retried
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the home node never accepted the request"
            RETRIES.append(1)
            time.sleep(0.5)
    finally:
        client.close()


def enrol_everyone(fed: RunningFederation, members: list[dict[str, Any]], pid: str) -> list[str]:
    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(lambda m: enrol_until_accepted(fed, m, pid), members))


def after(seconds: float, action: Callable[[], None]) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        action()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def all_zero(service_url: str) -> bool:
    return set(ops_gauges(service_url).values()) == {0.0}


def settled_exactly_once(
    fed: RunningFederation, members: list[dict[str, Any]], pid: str, expected: dict[str, int]
) -> None:
    wait_until(lambda: owner_statuses(fed, pid) == expected, 180, "every decision at the owner")
    wait_until(lambda: home_statuses(fed, pid) == expected, 180, "every outcome at home")
    emails = {m["email"] for m in members}
    per_member = wait_until(
        lambda: (seen := messages_to(fed.smtp, emails)) and all(seen.values()) and seen,
        180,
        "an e-mail to every member",
    )
    assert {e: ids for e, ids in per_member.items() if len(ids) != 1} == {}


def test_a_broker_restart_mid_flow_loses_and_doubles_nothing(
    running_federation: RunningFederation,
) -> None:
    fed = running_federation
    broker = fed.cluster.local
    if broker is None:
        pytest.skip("the broker is not run by this test session (KAFKA_* given)")
    members = new_members(fed.federation, 300)
    pid = publish(fed, capacity=240)

    decided_before_the_restart: list[int] = []

    def restart() -> None:
        decided_before_the_restart.append(sum(owner_statuses(fed, pid).values()))
        broker.stop()  # SIGTERM: a clean shutdown, as in a rolling restart
        time.sleep(3)
        broker.start()

    services = {
        "home": fed.node(ENTERPRISE_NODE).url("enrollment"),
        "owner": fed.node(SUPERIOR_NODE).url("enrollment"),
    }
    with GaugeWatch(services) as watch:
        restarting = after(1.0, restart)
        accepted = enrol_everyone(fed, members, pid)  # the home node keeps accepting meanwhile
        restarting.join()

        assert len(set(accepted)) == 300
        assert decided_before_the_restart[0] < 300  # the broker really went away mid-flow
        settled_exactly_once(fed, members, pid, {"confirmed": 240, "waitlisted": 60})
    # What ops saw on /metrics: the home node's requests waited in its outbox while the
    # broker was away; once all is settled, every backlog, age and lag is back at zero.
    assert watch.highest["home"]["bigschool_outbox_oldest_age_seconds"] >= 1
    assert watch.highest["home"]["bigschool_outbox_backlog"] >= 1
    for url in services.values():
        wait_until(partial(all_zero, url), 60, f"every ops gauge at zero at {url}")
    # No group is stuck: a request made after the restart goes through at once.
    [late] = new_members(fed.federation, 1)
    late_pid = publish(fed, capacity=1)
    enrol_everyone(fed, [late], late_pid)
    wait_until(lambda: home_statuses(fed, late_pid) == {"confirmed": 1}, 60, "a late request")


def test_a_database_restart_mid_flow_loses_and_doubles_nothing(
    running_federation: RunningFederation,
) -> None:
    fed = running_federation
    if not isinstance(fed.postgres, LocalPostgres):
        pytest.skip("PostgreSQL is not run by this test session")
    postgres = fed.postgres
    members = new_members(fed.federation, 300)
    pid = publish(fed, capacity=250)

    def restart() -> None:
        postgres.stop()  # fast shutdown: every connection of every service is cut
        time.sleep(3)
        postgres.start()

    RETRIES.clear()
    restarting = after(1.0, restart)
    accepted = enrol_everyone(fed, members, pid)  # retried with the same key while it is away
    restarting.join()

    assert RETRIES  # the database really went away while requests came in
    assert len(set(accepted)) == 300
    settled_exactly_once(fed, members, pid, {"confirmed": 250, "waitlisted": 50})
