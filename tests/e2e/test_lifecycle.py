"""The enrollment lifecycle across nodes, every service its own process on PostgreSQL, on the
real broker: a programme of the city federation (node zj) with quotas and a cost, members of
two enterprise nodes (hzsteel, hzbus) asking at once, cancellations, offers that expire on the
clock, approval, attendance, completion and a certificate verified on its public URL."""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from deploy.local.federation import ENTERPRISE_NODE, SECOND_ENTERPRISE_NODE, SUPERIOR_NODE
from shared.timezones import year_of
from tests.e2e.conftest import RunningFederation
from tests.e2e.helpers import enrol_all, new_members, query, wait_until

pytestmark = pytest.mark.e2e

COST = 100  # fen a seat
HOMES = {ENTERPRISE_NODE: "hzsteel-rolling", SECOND_ENTERPRISE_NODE: "hzbus-depot"}


def cadre(fed: RunningFederation, node: str, org: str, roles: str = "cadre") -> Any:
    return fed.federation.client(node, "enrollment", org=org, roles=roles, sub=f"{roles}@{org}")


def publish(fed: RunningFederation, **fields: Any) -> str:
    programme = fed.federation.publish_programme(SUPERIOR_NODE, "zj-hz", **fields)
    pid = str(programme["programme_id"])
    for node in HOMES:  # every home node learns the programme from the federation topic
        reader = cadre(fed, node, HOMES[node])
        reader.wait_for(f"/programmes/{pid}", lambda body: True)
        reader.close()
    return pid


def owner_seats(fed: RunningFederation, pid: str) -> dict[str, dict[str, Any]]:
    rows = query(
        fed.database_urls[SUPERIOR_NODE]["enrollment"],
        "SELECT enrollment_id, status, sequence, waitlist_number, quota_org, cost_fen "
        "FROM seats WHERE programme_id = $1",
        pid,
    )
    return {r["enrollment_id"]: dict(r) for r in rows}


def home_statuses(fed: RunningFederation, pid: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in HOMES:
        rows = query(
            fed.database_urls[node]["enrollment"],
            "SELECT enrollment_id, status FROM enrollments WHERE programme_id = $1",
            pid,
        )
        found |= {r["enrollment_id"]: r["status"] for r in rows}
    return found


def agree(fed: RunningFederation, pid: str) -> bool:
    seats = {e: s["status"] for e, s in owner_seats(fed, pid).items()}
    return bool(seats) and seats == home_statuses(fed, pid)


def statuses(seats: dict[str, dict[str, Any]]) -> Counter[str]:
    return Counter(s["status"] for s in seats.values())


def test_five_hundred_requests_from_two_nodes_keep_capacity_quotas_order_and_budget(
    running_federation: RunningFederation,
) -> None:
    fed = running_federation
    year = (datetime.now(UTC) + timedelta(days=7)).year  # the programme starts in a week
    owner = cadre(fed, SUPERIOR_NODE, "zj-hz")
    owner.http.put(
        f"/budgets/zj-hz/{year}", json={"union_fund_fen": 250 * COST, "education_share_bp": 10000}
    ).raise_for_status()
    pid = publish(fed, capacity=300, quotas={"hzsteel": 100, "hzbus": 100}, cost_per_seat_fen=COST)
    members = {
        node: new_members(fed.federation, 250, org, node=node) for node, org in HOMES.items()
    }

    threads = [
        threading.Thread(
            target=enrol_all, args=(fed.federation, members[node], pid), kwargs={"node": node}
        )
        for node in HOMES
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    seats = wait_until(lambda: len(s := owner_seats(fed, pid)) == 500 and s, 180, "500 decisions")
    assert statuses(seats) == {"confirmed": 200, "waitlisted": 300}
    confirmed_per_quota = Counter(
        s["quota_org"] for s in seats.values() if s["status"] == "confirmed"
    )
    assert confirmed_per_quota == {"hzsteel": 100, "hzbus": 100}
    waiting = sorted(
        (s for s in seats.values() if s["status"] == "waitlisted"), key=lambda s: s["sequence"]
    )
    assert [s["waitlist_number"] for s in waiting] == list(range(1, 301))  # decision order
    wait_until(lambda: agree(fed, pid), 120, "home nodes agree with the owner")
    budget = owner.get(f"/budgets/zj-hz/{year}")
    assert budget["committed"] == 200 * COST == sum(s["cost_fen"] for s in seats.values())

    # Ten hzsteel members give their seats up: exactly ten seats are offered, to the first
    # hzsteel members in the waitlist (hzbus is at its quota).
    by_member = {m["member_id"]: m for m in members[ENTERPRISE_NODE]}
    mine = query(
        fed.database_urls[ENTERPRISE_NODE]["enrollment"],
        "SELECT enrollment_id, member_id FROM enrollments "
        "WHERE programme_id = $1 AND status = 'confirmed' ORDER BY sequence LIMIT 10",
        pid,
    )
    for row in mine:
        client = fed.federation.member_client(ENTERPRISE_NODE, by_member[row["member_id"]])
        client.post(f"/enrollments/{row['enrollment_id']}/cancel", {}, expect=202)
        client.close()
    seats = wait_until(
        lambda: statuses(s := owner_seats(fed, pid))["offered"] == 10 and s, 120, "ten offers"
    )
    assert statuses(seats) == {"confirmed": 190, "offered": 10, "waitlisted": 290, "cancelled": 10}
    hzsteel_waiting = [s for s in waiting if s["quota_org"] == "hzsteel"]
    offered = {e for e, s in seats.items() if s["status"] == "offered"}
    assert offered == {s["enrollment_id"] for s in hzsteel_waiting[:10]}
    assert owner.get(f"/budgets/zj-hz/{year}")["committed"] == 200 * COST

    # Nobody answers: 49 hours later the offers have passed to the next ten in line.
    fed.advance_clock(49 * 3600)
    seats = wait_until(
        lambda: statuses(s := owner_seats(fed, pid))["cancelled"] == 20 and s, 120, "expiries"
    )
    offered = {e for e, s in seats.items() if s["status"] == "offered"}
    assert offered == {s["enrollment_id"] for s in hzsteel_waiting[10:20]}
    wait_until(lambda: agree(fed, pid), 120, "home nodes agree seat by seat")
    owner.close()


def test_a_member_goes_from_approval_to_a_verified_certificate(
    running_federation: RunningFederation,
) -> None:
    fed = running_federation
    pid = publish(fed, capacity=5, requires_approval=True, hours=6, kind="skills_competition")
    keen, turned_down = new_members(fed.federation, 2)
    grassroots = cadre(fed, ENTERPRISE_NODE, "hzsteel-rolling")
    owner = cadre(fed, SUPERIOR_NODE, "zj-hz")
    ids = []
    for member in (keen, turned_down):
        client = fed.federation.member_client(ENTERPRISE_NODE, member)
        ids.append(client.post("/enrollments", {"programme_id": pid}, expect=202)["id"])
        client.close()
        assert grassroots.get(f"/enrollments/{ids[-1]}")["status"] == "pending_approval"

    grassroots.post(f"/enrollments/{ids[0]}/approval", {"approve": True}, expect=200)
    grassroots.post(
        f"/enrollments/{ids[1]}/approval", {"approve": False, "reason": "shift"}, expect=200
    )
    seat = wait_until(lambda: owner_seats(fed, pid).get(ids[0]), 60, "the approved request")
    assert seat["status"] == "confirmed"
    assert ids[1] not in owner_seats(fed, pid)  # a rejected request never reached the owner

    owner.post(
        f"/programmes/{pid}/attendance", {"enrollment_ids": [ids[0]], "attended": True}, expect=200
    )
    owner.post(
        f"/programmes/{pid}/seats/{ids[0]}/completion", {"score": 96.5, "rank": 1}, expect=200
    )
    keen_client = fed.federation.member_client(ENTERPRISE_NODE, keen)
    year = year_of(datetime.now(UTC), "Asia/Shanghai")  # completed now: this year there
    record = wait_until(
        lambda: (
            (r := keen_client.get(f"/members/{keen['member_id']}/learning-record", year=year))[
                "total_hours"
            ]
            and r
        ),
        60,
        "the learning record",
    )
    assert record["hours_by_quality_area"]["safety_health"] == 6
    [certificate] = wait_until(
        lambda: keen_client.get(f"/members/{keen['member_id']}/certificates")["items"],
        60,
        "a certificate",
    )
    public = httpx.get(certificate["verification_url"])
    assert public.status_code == 200 and public.json()["valid"] is True
    assert keen["email"] not in public.text and keen["member_id"] not in public.text

    owner.post(
        f"/programmes/{pid}/seats/{ids[0]}/completion-revocation",
        {"reason": "recorded in error"},
        expect=200,
    )
    wait_until(
        lambda: httpx.get(certificate["verification_url"]).json()["valid"] is False, 60, "revoked"
    )
    for client in (keen_client, owner, grassroots):
        client.close()


def test_the_e_mail_link_gives_a_place_up_once(running_federation: RunningFederation) -> None:
    fed = running_federation
    pid = publish(fed, capacity=1)
    first, second = new_members(fed.federation, 2)
    ids = []
    for member in (first, second):
        client = fed.federation.member_client(ENTERPRISE_NODE, member)
        ids.append(client.post("/enrollments", {"programme_id": pid}, expect=202)["id"])
        client.close()
    # The waitlisted member's e-mail carries a one-click link to their home node.
    link = wait_until(lambda: link_in_mail(fed, second["email"]), 60, "the e-mail's link")

    assert link.startswith(fed.node(ENTERPRISE_NODE).url("enrollment") + "/links/")
    assert httpx.get(link).status_code == 200
    assert httpx.post(link).status_code == 200
    assert httpx.post(link).status_code == 410  # once only
    assert httpx.post(link[:-3] + "abc").status_code == 403  # changed
    wait_until(lambda: owner_seats(fed, pid)[ids[1]]["status"] == "cancelled", 60, "cancelled")


def link_in_mail(fed: RunningFederation, email: str) -> str | None:
    for mail in list(fed.smtp.messages):
        if email in mail.rcpt_tos:
            body = mail.message.get_content()
            if found := re.search(r"https?://\S+/links/\S+", body):
                return found.group(0)
    return None
