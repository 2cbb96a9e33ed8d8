"""A member's lifecycle across nodes, every service its own process on PostgreSQL, on the real
broker: a transfer from hzsteel to hzbus (token, intake, hand-over) leaves no name, e-mail or
phone in any database of the old node, and the member's learning record, enrollments and
honours live at the new home, where they log in and enrol; leaving the union purges the
member's contact data from every database of the home node."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from deploy.local.federation import ENTERPRISE_NODE, SECOND_ENTERPRISE_NODE, SUPERIOR_NODE
from deploy.local.node import SERVICES
from shared.timezones import year_of
from tests.e2e.conftest import RunningFederation
from tests.e2e.helpers import database_text, new_members, query, wait_until
from tests.e2e.test_lifecycle import cadre, owner_seats, publish

pytestmark = pytest.mark.e2e

OLD, NEW = ENTERPRISE_NODE, SECOND_ENTERPRISE_NODE
OLD_ORG, NEW_ORG = "hzsteel-rolling", "hzbus-depot"


def enrol(fed: RunningFederation, node: str, member: dict[str, Any], pid: str) -> str:
    client = fed.federation.member_client(node, member)
    try:
        enrollment_id = str(client.post("/enrollments", {"programme_id": pid}, expect=202)["id"])
        client.wait_for(f"/enrollments/{enrollment_id}", lambda b: b["status"] == "confirmed")
        return enrollment_id
    finally:
        client.close()


def traces(fed: RunningFederation, node: str, member: dict[str, Any]) -> dict[str, list[str]]:
    """Which of the member's name, e-mail and phone each database of `node` still holds."""
    personal = (member["name"], member["email"], member["phone"])
    found = {}
    for service in SERVICES:
        text = database_text(fed.database_urls[node][service])
        found[service] = [value for value in personal if value in text]
    return found


def nothing_left(fed: RunningFederation, node: str, member: dict[str, Any]) -> bool:
    return not any(traces(fed, node, member).values())


def test_a_transferred_member_leaves_no_contact_data_behind_and_takes_their_record(
    running_federation: RunningFederation,
) -> None:
    fed = running_federation
    [member] = new_members(fed.federation, 1, org=OLD_ORG)
    member_id = member["member_id"]
    # A completed programme (the learning record and a certificate), and one still to come.
    done_pid = publish(fed, capacity=3, hours=6)
    done_id = enrol(fed, OLD, member, done_pid)
    owner = cadre(fed, SUPERIOR_NODE, "zj-hz")
    owner.post(
        f"/programmes/{done_pid}/attendance",
        {"enrollment_ids": [done_id], "attended": True},
        expect=200,
    )
    owner.post(f"/programmes/{done_pid}/seats/{done_id}/completion", {"score": 90}, expect=200)
    coming_pid = publish(fed, capacity=3)
    coming_id = enrol(fed, OLD, member, coming_pid)
    old_member = fed.federation.member_client(OLD, member)
    old_member.wait_for(f"/members/{member_id}/certificates", lambda b: len(b["items"]) == 1)
    old_awards = fed.federation.member_client(OLD, member, service="awards")
    # Two seats and one completion (the one that credits the hours).
    old_awards.wait_for(f"/members/{member_id}/facts", lambda b: len(b["items"]) == 3)
    # The search works: the old node's notifications hold the member's contact data.
    wait_until(lambda: traces(fed, OLD, member)["notifications"], 60, "the recipient copy")

    # The old home gives a token; the new home takes the member in with it.
    transfer = cadre(fed, OLD, OLD_ORG).post(
        f"/members/{member_id}/transfer", {"to_org": NEW_ORG}, expect=201
    )
    assert (transfer["status"], transfer["to_node"]) == ("token_issued", NEW)
    new_cadre = cadre(fed, NEW, NEW_ORG)
    intake = {k: member[k] for k in ("name", "email", "phone", "language")}
    arriving = new_cadre.post(
        "/members/intake", {"token": transfer["token"], "home_org": NEW_ORG, **intake}, expect=202
    )
    assert arriving["status"] == "arriving"
    new_cadre.wait_for(f"/members/{member_id}", lambda b: b["status"] == "active")

    # The member logs in at the new home: their record, enrollments and honours are there.
    moved = {**member, "home_org": NEW_ORG}
    new_member = fed.federation.member_client(NEW, moved)
    year = year_of(datetime.now(UTC), "Asia/Shanghai")
    record = new_member.get(f"/members/{member_id}/learning-record", year=year)
    assert record["hours_by_quality_area"]["safety_health"] == 6
    assert len(new_member.get(f"/members/{member_id}/certificates")["items"]) == 1
    mine = {e["id"]: e["status"] for e in new_member.get("/enrollments")["items"]}
    assert mine == {done_id: "completed", coming_id: "confirmed"}
    new_awards = fed.federation.member_client(NEW, moved, service="awards")
    new_awards.wait_for(f"/members/{member_id}/facts", lambda b: len(b["items"]) == 3)
    # The owner sends later decisions on the member's seat to the new home.
    wait_until(
        lambda: (
            query(
                fed.database_urls[SUPERIOR_NODE]["enrollment"],
                "SELECT home_node FROM seats WHERE enrollment_id = $1",
                coming_id,
            )[0]["home_node"]
            == NEW
        ),
        60,
        "the seat re-homed at the owner",
    )
    # … and they enrol at the new home.
    enrol(fed, NEW, moved, publish(fed, capacity=3))
    assert owner_seats(fed, coming_pid)[coming_id]["status"] == "confirmed"

    # The old node keeps only {member_id, moved_to, at}: no name, e-mail or phone anywhere.
    wait_until(lambda: nothing_left(fed, OLD, member), 60, "the old node to forget the member")
    [departure] = query(
        fed.database_urls[OLD]["enrollment"],
        "SELECT reason, moved_to FROM departed_members WHERE member_id = $1",
        member_id,
    )
    assert dict(departure) == {"reason": "transferred", "moved_to": NEW_ORG}
    gone = cadre(fed, OLD, OLD_ORG).get(f"/members/{member_id}", expect=410)
    assert gone["moved_to"] == NEW_ORG
    assert traces(fed, NEW, member)["enrollment"], "the new home holds the member's record"
    for client in (owner, old_member, old_awards, new_cadre, new_member, new_awards):
        client.close()


def test_leaving_the_union_purges_contact_data_from_every_database_of_the_home_node(
    running_federation: RunningFederation,
) -> None:
    fed = running_federation
    [member] = new_members(fed.federation, 1, org=OLD_ORG)
    pid = publish(fed, capacity=3)
    enrollment_id = enrol(fed, OLD, member, pid)
    wait_until(lambda: traces(fed, OLD, member)["notifications"], 60, "the recipient copy")

    left = cadre(fed, OLD, OLD_ORG).post(f"/members/{member['member_id']}/leave", {}, expect=200)

    assert left["reason"] == "left"
    wait_until(lambda: nothing_left(fed, OLD, member), 60, "the home node to forget the member")
    # The seat they held goes back to the programme; the pseudonymous history stays.
    wait_until(
        lambda: owner_seats(fed, pid)[enrollment_id]["status"] == "cancelled", 60, "the seat"
    )
    [row] = query(
        fed.database_urls[OLD]["enrollment"],
        "SELECT status FROM enrollments WHERE enrollment_id = $1",
        enrollment_id,
    )
    assert row["status"] == "cancelled"
