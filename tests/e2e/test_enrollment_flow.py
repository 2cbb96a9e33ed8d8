"""The first flow across two nodes, every service its own OS process, real Kafka, real
PostgreSQL, real SMTP. Tests run in file order and share one federation."""

from __future__ import annotations

from typing import Any

import pytest

from deploy.local.federation import ENTERPRISE_NODE, SUPERIOR_NODE
from tests.e2e.conftest import RunningFederation
from tests.e2e.helpers import (
    enrol_all,
    messages_to,
    new_members,
    query,
    wait_until,
)

pytestmark = pytest.mark.e2e


def publish(fed: RunningFederation, capacity: int, **fields: Any) -> str:
    programme = fed.federation.publish_programme(SUPERIOR_NODE, "zj-hz", capacity, **fields)
    pid = programme["programme_id"]
    # The enterprise node learns the programme from the federation topic.
    admin = fed.federation.admin(ENTERPRISE_NODE)
    admin.wait_for(f"/programmes/{pid}", lambda body: True)
    admin.close()
    return pid


def home_statuses(fed: RunningFederation, programme_id: str) -> dict[str, int]:
    rows = query(
        fed.database_urls[ENTERPRISE_NODE]["enrollment"],
        "SELECT status, count(*) AS n FROM enrollments WHERE programme_id = $1 GROUP BY status",
        programme_id,
    )
    return {r["status"]: r["n"] for r in rows}


def owner_statuses(fed: RunningFederation, programme_id: str) -> dict[str, int]:
    rows = query(
        fed.database_urls[SUPERIOR_NODE]["enrollment"],
        "SELECT status, count(*) AS n FROM seats WHERE programme_id = $1 GROUP BY status",
        programme_id,
    )
    return {r["status"]: r["n"] for r in rows}


def test_a_member_enrolled_at_another_node_is_confirmed_notified_and_recorded(
    running_federation: RunningFederation,
) -> None:
    fed = running_federation
    [member] = new_members(fed.federation, 1, language="en")
    pid = publish(fed, capacity=5)

    client = fed.federation.member_client(ENTERPRISE_NODE, member)
    response = client.http.post("/enrollments", json={"programme_id": pid})
    assert response.status_code == 202
    assert response.json()["status"] == "requested"
    location = response.headers["location"]
    outcome = client.wait_for(location, lambda body: body["status"] != "requested")
    assert outcome["status"] == "confirmed"
    assert outcome["sequence"] == 1

    mail = wait_until(
        lambda: [m for m in fed.smtp.messages if member["email"] in m.rcpt_tos],
        what="the confirmation e-mail",
    )
    assert len({m.message_id for m in mail}) == 1
    assert "confirmed" in mail[0].subject.lower()

    inbox = fed.federation.member_client(ENTERPRISE_NODE, member, "notifications")
    items = inbox.wait_for("/inbox", lambda body: len(body["items"]) >= 1)["items"]
    assert len(items) == 1
    assert "confirmed" in items[0]["title"].lower()

    awards = fed.federation.member_client(ENTERPRISE_NODE, member, "awards")
    facts = awards.wait_for(
        f"/members/{member['member_id']}/facts", lambda body: len(body["items"]) >= 1
    )
    assert [f["programme_id"] for f in facts["items"]] == [pid]


def test_two_hundred_concurrent_requests_fill_exactly_the_capacity(
    running_federation: RunningFederation,
) -> None:
    fed = running_federation
    members = new_members(fed.federation, 200, language="zh")
    pid = publish(fed, capacity=150)

    accepted = enrol_all(fed.federation, members, pid)
    assert {a["status"] for a in accepted} == {"requested"}

    expected = {"confirmed": 150, "waitlisted": 50}
    wait_until(lambda: owner_statuses(fed, pid) == expected, what="owner decisions")
    wait_until(lambda: home_statuses(fed, pid) == expected, what="home node outcomes")
    sequences = query(
        fed.database_urls[SUPERIOR_NODE]["enrollment"],
        "SELECT sequence FROM seats WHERE programme_id = $1 ORDER BY sequence",
        pid,
    )
    assert [r["sequence"] for r in sequences] == list(range(1, 201))

    emails = {m["email"] for m in members}
    per_member = wait_until(
        lambda: (seen := messages_to(fed.smtp, emails)) and all(seen.values()) and seen,
        what="one e-mail per member",
    )
    assert all(len(ids) == 1 for ids in per_member.values())
