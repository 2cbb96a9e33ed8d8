"""Every endpoint of every service refuses a missing, expired, wrongly signed or
wrongly addressed token (all but health, readiness, metrics and the API documents)."""

from __future__ import annotations

import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from deploy.local.federation import ENTERPRISE_NODE, SUPERIOR_NODE
from deploy.local.node import SERVICES
from shared.auth.keys import generate_keys, kid_of
from shared.auth.tokens import issue_token
from tests.e2e.conftest import RunningFederation

pytestmark = pytest.mark.e2e

OPEN = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/asyncapi.json",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
}


def bad_tokens(keys_dir: Path, node: str) -> dict[str, str | None]:
    private = (keys_dir / "private.pem").read_bytes()
    kid = kid_of(keys_dir / "jwks.json")
    other = Path(tempfile.mkdtemp())
    generate_keys(other, kid=kid)  # same kid, another key: a forged signature
    claims = {
        "issuer": "bigschool-federation",
        "sub": "x",
        "org": "hzsteel-rolling",
        "roles": ["admin", "cadre", "member"],
    }
    return {
        "missing": None,
        "expired": issue_token(
            private,
            kid=kid,
            node=node,
            ttl=timedelta(minutes=5),
            now=datetime.now(UTC) - timedelta(hours=1),
            **claims,
        ),
        "wrong signature": issue_token(
            (other / "private.pem").read_bytes(), kid=kid, node=node, **claims
        ),
        "other node": issue_token(private, kid=kid, node="elsewhere", **claims),
        "garbage": "not-a-jwt",
    }


def endpoints(base: str) -> list[tuple[str, str]]:
    spec = httpx.get(f"{base}/openapi.json").json()
    found = []
    for path, methods in spec["paths"].items():
        if path in OPEN:
            continue
        concrete = path
        while "{" in concrete:
            start, end = concrete.index("{"), concrete.index("}")
            concrete = concrete[:start] + str(uuid.uuid4()) + concrete[end + 1 :]
        found += [(method.upper(), concrete) for method in methods]
    return found


@pytest.mark.parametrize("node", [SUPERIOR_NODE, ENTERPRISE_NODE])
@pytest.mark.parametrize("service", SERVICES)
def test_every_endpoint_refuses_a_bad_token(
    running_federation: RunningFederation, node: str, service: str
) -> None:
    base = running_federation.node(node).url(service)
    routes = endpoints(base)
    assert routes, "the service documents no protected endpoint"
    for label, token in bad_tokens(running_federation.keys_dir, node).items():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for method, path in routes:
            response = httpx.request(method, f"{base}{path}", headers=headers, json={})
            assert response.status_code == 401, (label, method, path, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
