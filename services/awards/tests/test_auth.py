"""Every awards endpoint needs a valid bearer token for this node: else 401, never data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

MEMBER = "0f7f0c1e-3f1a-4f0e-8a51-7d1f2f6b9c10"
ENDPOINTS = [f"/members/{MEMBER}/facts", "/facts/summary?org=hzsteel"]
ENDPOINTS += [f"/members/{MEMBER}/honours", f"/members/{MEMBER}/record", "/orgs/hzsteel/honours"]


@pytest.fixture(params=ENDPOINTS)
def endpoint(request: pytest.FixtureRequest) -> str:
    return request.param


async def test_missing_token_is_401(client, bus, endpoint):
    response = await client.get(endpoint)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"


async def test_non_bearer_scheme_is_401(client, bus, endpoint):
    response = await client.get(endpoint, headers={"Authorization": "Basic dXNlcjpwYXNz"})

    assert response.status_code == 401


async def test_expired_token_is_401(client, bus, make_token, endpoint):
    stale = make_token(
        org="hzsteel",
        roles=["cadre"],
        member_id=MEMBER,
        now=datetime.now(UTC) - timedelta(hours=2),
        ttl=timedelta(hours=1),
    )

    response = await client.get(endpoint, headers={"Authorization": f"Bearer {stale}"})

    assert response.status_code == 401


async def test_wrongly_signed_token_is_401(client, bus, make_token, other_keys, endpoint):
    forged = make_token(keys=other_keys, org="hzsteel", roles=["cadre"], member_id=MEMBER)

    response = await client.get(endpoint, headers={"Authorization": f"Bearer {forged}"})

    assert response.status_code == 401


async def test_token_for_another_node_is_401(client, bus, make_token, endpoint):
    elsewhere = make_token(org="hzsteel", roles=["cadre"], member_id=MEMBER, node="zj")

    response = await client.get(endpoint, headers={"Authorization": f"Bearer {elsewhere}"})

    assert response.status_code == 401


async def test_garbage_token_is_401(client, bus, endpoint):
    response = await client.get(endpoint, headers={"Authorization": "Bearer not.a.jwt"})

    assert response.status_code == 401
