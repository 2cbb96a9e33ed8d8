"""Ids in paths and queries that no record could have (a NUL, a newline) are a 422 naming
the parameter, before any of them reaches the database."""

from __future__ import annotations

import pytest

MEMBER = "5b6f0b8e-0a7e-4c61-b0f1-3c3b1e1d0a01"


@pytest.mark.parametrize("member_id", ["a%00b", "a%0Ab", "%E2%80%AEab"])
async def test_a_member_id_that_is_not_an_id_is_a_422_naming_the_path_field(
    client, bus, auth, member_id
):
    headers = auth(org="hzsteel-rolling", roles=["member"], member_id=MEMBER)

    response = await client.get(f"/members/{member_id}/facts", headers=headers)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["path.member_id"]


@pytest.mark.parametrize("org", ["hzsteel\x00", "hzsteel\n", ""])
async def test_a_roll_up_of_an_org_that_is_not_an_org_id_is_a_422_naming_the_query_field(
    client, bus, auth, org
):
    response = await client.get(
        "/facts/summary", params={"org": org}, headers=auth(org="hzsteel", roles=["cadre"])
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["query.org"]
