"""Every endpoint but health, readiness and metrics needs a valid bearer token for this node."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.auth.keys import generate_keys

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def foreign_key(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A private key the federation never published (same kid as the real one)."""
    private, _ = generate_keys(Path(tmp_path_factory.mktemp("foreign")))
    return private.read_bytes()


@pytest.fixture
def bad_headers(token, foreign_key) -> dict[str, dict[str, str]]:
    long_ago = datetime.now(UTC) - timedelta(days=2)
    return {
        "missing": {},
        "not-bearer": {"Authorization": "Basic dXNlcjpwYXNz"},
        "garbage": {"Authorization": "Bearer not.a.jwt"},
        "expired": token("hzsteel", "cadre", now=long_ago, ttl=timedelta(hours=1)),
        "wrong-signature": token("hzsteel", "cadre", private_pem=foreign_key),
        "other-node": token("hzsteel", "cadre", node="js"),
    }


KINDS = ["missing", "not-bearer", "garbage", "expired", "wrong-signature", "other-node"]
ENDPOINTS = [
    ("GET", "/programmes"),
    ("POST", "/programmes"),
    ("POST", "/members"),
    ("POST", "/orgs"),
    ("POST", "/enrollments"),
    ("GET", "/enrollments/any"),
]


@pytest.mark.parametrize("kind", KINDS)
async def test_a_bad_or_missing_token_gets_401_problem_with_www_authenticate(
    node, bad_headers, kind: str
) -> None:
    response = await node.client.get("/programmes", headers=bad_headers[kind])

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["status"] == 401


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_every_api_endpoint_refuses_a_request_without_a_token(
    node, method: str, path: str
) -> None:
    response = await node.client.request(method, path, json={})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_the_401_says_why_without_echoing_the_token(node, bad_headers) -> None:
    response = await node.client.get("/programmes", headers=bad_headers["expired"])

    assert "ExpiredSignatureError" in response.json()["detail"]
    assert bad_headers["expired"]["Authorization"].split()[1] not in response.text


async def test_a_valid_token_is_accepted(node, token) -> None:
    response = await node.client.get("/programmes", headers=token("hzsteel", "cadre"))

    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
async def test_health_and_metrics_need_no_token(node, path: str) -> None:
    response = await node.client.get(path)

    assert response.status_code == 200
