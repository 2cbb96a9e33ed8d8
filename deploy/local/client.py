"""A small client of the services' HTTP APIs, with tokens issued from the demo's keys.
The demo seeds its federation with it; the end-to-end tests drive the flow with it."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from shared.auth.keys import kid_of
from shared.auth.tokens import issue_token, load_private_key


class Tokens:
    def __init__(self, keys_dir: Path, issuer: str = "bigschool-federation") -> None:
        self.private_key = load_private_key((keys_dir / "private.pem").read_bytes())
        self.kid = kid_of(keys_dir / "jwks.json")
        self.issuer = issuer

    def issue(
        self, *, node: str, org: str, roles: str, sub: str, member_id: str | None = None
    ) -> str:
        return issue_token(
            self.private_key,
            kid=self.kid,
            issuer=self.issuer,
            node=node,
            sub=sub,
            org=org,
            roles=roles.split(","),
            member_id=member_id,
        )


# Building a TLS context loads the CA bundle (~25 ms): share one among all clients.
_TLS = ssl.create_default_context()


class ServiceClient:
    """Calls one service of one node as one principal."""

    def __init__(self, base_url: str, token: str, timeout: float = 15) -> None:
        self.http = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}"},
            verify=_TLS,
        )

    def post(self, path: str, body: dict[str, Any], expect: int = 201) -> dict[str, Any]:
        response = self.http.post(path, json=body)
        if response.status_code != expect:
            raise AssertionError(f"POST {path}: {response.status_code} {response.text}")
        return response.json()

    def get(self, path: str, expect: int = 200, **params: Any) -> dict[str, Any]:
        response = self.http.get(path, params=params)
        if response.status_code != expect:
            raise AssertionError(f"GET {path}: {response.status_code} {response.text}")
        return response.json()

    def wait_for(
        self,
        path: str,
        done: Callable[[dict[str, Any]], bool],
        timeout: float = 30,
        interval: float = 0.2,
    ) -> dict[str, Any]:
        """Poll `path` until `done(body)` holds (events travel asynchronously)."""
        deadline = time.monotonic() + timeout
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            response = self.http.get(path)
            if response.status_code == 200:
                body = response.json()
                if done(body):
                    return body
            time.sleep(interval)
        raise TimeoutError(f"GET {path}: condition not met in {timeout}s; last body {body}")

    def close(self) -> None:
        self.http.close()
