"""SIGKILL the enrollment services (relay and consumers) and the notifications service in
the middle of a stream of enrollments: after restart nothing is lost, nothing doubled."""

from __future__ import annotations

import threading
import time

import pytest

from deploy.local.federation import ENTERPRISE_NODE, SUPERIOR_NODE
from tests.e2e.conftest import RunningFederation
from tests.e2e.helpers import enrol_all, messages_to, new_members, wait_until
from tests.e2e.test_enrollment_flow import home_statuses, owner_statuses, publish

pytestmark = pytest.mark.e2e


def test_killed_services_lose_no_enrollment_and_send_no_email_twice(
    running_federation: RunningFederation,
) -> None:
    fed = running_federation
    members = new_members(fed.federation, 120)
    pid = publish(fed, capacity=90)
    decider = fed.node(SUPERIOR_NODE).services["enrollment"]
    home = fed.node(ENTERPRISE_NODE).services["enrollment"]
    notifier = fed.node(ENTERPRISE_NODE).services["notifications"]

    first, second = members[:80], members[80:]
    accepted = enrol_all(fed.federation, first, pid)

    def kill_mid_stream() -> None:
        time.sleep(0.3)
        decider.kill()
        notifier.kill()

    killer = threading.Thread(target=kill_mid_stream)
    killer.start()
    accepted += enrol_all(fed.federation, second, pid)  # the home node keeps accepting
    killer.join()
    home.kill()  # its outbox may still hold requests nobody relayed yet
    assert len(accepted) == 120

    for service in (home, decider, notifier):
        service.start()
    for service in (home, decider, notifier):
        service.wait_ready()

    expected = {"confirmed": 90, "waitlisted": 30}
    wait_until(lambda: owner_statuses(fed, pid) == expected, 120, "owner decisions")
    wait_until(lambda: home_statuses(fed, pid) == expected, 120, "home outcomes")

    emails = {m["email"] for m in members}
    per_member = wait_until(
        lambda: (seen := messages_to(fed.smtp, emails)) and all(seen.values()) and seen,
        120,
        "one e-mail per member",
    )
    doubled = {e: ids for e, ids in per_member.items() if len(ids) != 1}
    assert doubled == {}
