"""Every endpoint of every service refuses a missing, expired, wrongly signed or
wrongly addressed token (all but health, readiness, metrics, the API documents, certificate
verification and one-click links)."""

from __future__ import annotations

import functools
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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


# Public by design (no login): certificate verification and one-click links from e-mails.
PUBLIC_PREFIXES = ("/certificates/verify/", "/links/")


def bad_tokens(keys_dir: Path, node: str) -> dict[str, str | None]:
    private = (keys_dir / "private.pem").read_bytes()
    kid = kid_of(keys_dir / "jwks.json")
    other = Path(tempfile.mkdtemp())
    generate_keys(other, kid=kid)  # same kid, another key: a forged signature
    claims = functools.partial(
        issue_token,
        kid=kid,
        issuer="bigschool-federation",
        sub="x",
        org="hzsteel-rolling",
        roles=["admin", "cadre", "member"],
    )
    return {
        "missing": None,
        "expired": claims(
            private,
            node=node,
            ttl=timedelta(minutes=5),
            now=datetime.now(UTC) - timedelta(hours=1),
        ),
        "wrong signature": claims((other / "private.pem").read_bytes(), node=node),
        "other node": claims(private, node="elsewhere"),
        "garbage": "not-a-jwt",
    }


def endpoints(base: str) -> list[tuple[str, str]]:
    spec = httpx.get(f"{base}/openapi.json").json()
    found = []
    for path, methods in spec["paths"].items():
        if path in OPEN or path.startswith(PUBLIC_PREFIXES):
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
    tries = [
        (label, token, method, path)
        for label, token in bad_tokens(running_federation.keys_dir, node).items()
        for method, path in routes
    ]
    # Kept-alive connections, a few requests at a time: hundreds of requests per service.
    with httpx.Client(base_url=base) as client, ThreadPoolExecutor(8) as pool:

        def attempt(label: str, token: str | None, method: str, path: str) -> None:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = client.request(method, path, headers=headers, json={})
            assert response.status_code == 401, (label, method, path, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")

        for done in [pool.submit(attempt, *t) for t in tries]:
            done.result()


def _twenty_megabytes() -> Iterator[bytes]:
    chunk = b"x" * 65536
    for _ in range(20 * 1024 * 1024 // len(chunk)):
        yield chunk


@pytest.mark.parametrize("with_token", [False, True], ids=["no-token", "valid-token"])
def test_a_huge_body_is_refused_before_it_is_read(
    running_federation: RunningFederation, with_token: bool
) -> None:
    fed = running_federation.federation
    headers = {"Content-Type": "application/json"}
    if with_token:
        token = fed.tokens.issue(
            node=ENTERPRISE_NODE, org="hzsteel-rolling", roles="cadre", sub="cadre"
        )
        headers["Authorization"] = f"Bearer {token}"
    url = f"{fed.nodes[ENTERPRISE_NODE].url('enrollment')}/members"

    declared = httpx.post(url, content=b"x" * (20 * 1024 * 1024), headers=headers, timeout=30)
    streamed = httpx.post(url, content=_twenty_megabytes(), headers=headers, timeout=30)

    expected = 413 if with_token else 401
    assert declared.status_code == expected
    assert declared.headers["content-type"] == "application/problem+json"
    assert streamed.status_code == expected
