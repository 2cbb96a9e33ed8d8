"""GET /facts/summary: figures for a subtree, for its cadres and those above; small groups
suppressed (docs/contract.md, ownership rule 4)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest


def members(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


async def enrol(bus, confirmed, people: list[str], org: str, **kwargs) -> None:
    for member_id in people:
        await bus.publish(confirmed(member_id, org, **kwargs))


async def summary(client, auth, org: str, *, as_org: str | None = None, **params):
    return await client.get(
        "/facts/summary",
        params={"org": org, **params},
        headers=auth(org=as_org or org, roles=["cadre"]),
    )


async def test_group_of_four_members_is_suppressed(client, bus, confirmed, auth):
    await enrol(bus, confirmed, members(4), "hzsteel-rolling", hours=10)

    response = await summary(client, auth, "hzsteel-rolling")

    assert response.status_code == 200
    body = response.json()
    assert body["suppressed"] is True
    assert not {"members", "facts", "hours"} & body.keys()
    assert body["by_kind"] == {}


async def test_group_of_five_members_shows_counts_and_hours(
    client, bus, confirmed, completed, auth
):
    people = members(5)
    await enrol(bus, confirmed, people, "hzsteel-rolling", hours=10)
    await enrol(bus, completed, people, "hzsteel-rolling", hours=10)
    await bus.publish(completed(people[0], "hzsteel-rolling", hours=2.5))

    body = (await summary(client, auth, "hzsteel-rolling")).json()

    assert body["suppressed"] is False
    # Hours count once, on completion: the confirmed seats' hours are not training hours.
    assert (body["members"], body["facts"], body["hours"]) == (5, 11, 52.5)
    assert body["by_kind"] == {
        "enrollment_confirmed": {"suppressed": False, "members": 5, "facts": 5, "hours": 50.0},
        "completed": {"suppressed": False, "members": 5, "facts": 6, "hours": 52.5},
    }
    assert (body["year"], body["node"], body["min_group_size"]) == (2025, "hzsteel", 5)


async def test_ancestor_cadre_sees_the_subtree_summed(client, bus, confirmed, auth):
    await enrol(bus, confirmed, members(3), "hzsteel-rolling")
    await enrol(bus, confirmed, members(3), "hzsteel-casting")

    rolling = (await summary(client, auth, "hzsteel-rolling", as_org="hzsteel")).json()
    enterprise = (await summary(client, auth, "hzsteel", as_org="zj")).json()

    assert rolling["suppressed"] is True
    assert (enterprise["suppressed"], enterprise["members"]) == (False, 6)


async def test_year_is_the_calendar_year_in_the_federation_zone(client, bus, confirmed, auth):
    # 2024-12-31 17:00 UTC is 2025-01-01 01:00 in Asia/Shanghai.
    new_year = datetime(2024, 12, 31, 17, 0, tzinfo=UTC)
    old_year = datetime(2024, 12, 31, 15, 59, tzinfo=UTC)
    await enrol(bus, confirmed, members(5), "hzsteel-rolling", decided_at=new_year)
    await enrol(bus, confirmed, members(5), "hzsteel-rolling", decided_at=old_year)

    for year in (2024, 2025):
        body = (await summary(client, auth, "hzsteel-rolling", year=year)).json()
        assert (body["year"], body["members"]) == (year, 5)
    assert (await summary(client, auth, "hzsteel-rolling", year=2023)).json()["suppressed"]


async def test_year_defaults_to_this_year_by_the_injected_clock(client, bus, confirmed, auth):
    await enrol(bus, confirmed, members(5), "hzsteel-rolling")  # decided at the clock's now

    body = (await summary(client, auth, "hzsteel-rolling")).json()

    assert (body["year"], body["members"]) == (2025, 5)


@pytest.mark.parametrize(
    ("as_org", "roles"),
    [
        ("hzsteel-casting", ["cadre"]),  # a sibling
        ("hzsteel-rolling", ["cadre"]),  # below the org asked for
        ("otherco", ["admin"]),  # another branch
        ("hzsteel", ["member"]),  # right org, no cadre role
        ("hzsteel", ["reviewer"]),
    ],
)
async def test_roll_up_is_refused_outside_the_callers_subtree_or_role(
    client, bus, confirmed, auth, as_org, roles
):
    await enrol(bus, confirmed, members(5), "hzsteel-rolling")

    response = await client.get(
        "/facts/summary", params={"org": "hzsteel"}, headers=auth(org=as_org, roles=roles)
    )

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


async def test_unknown_org_is_404(client, bus, auth):
    response = await summary(client, auth, "no-such-org", as_org="zj")

    assert response.status_code == 404


async def test_org_is_required(client, bus, auth):
    response = await client.get("/facts/summary", headers=auth(org="zj", roles=["cadre"]))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.org"
