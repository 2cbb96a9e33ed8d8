"""The node's service APIs as the portal calls them: with the signed-in user's token, over
one pooled HTTP client. Problems (`application/problem+json`) become `ApiError`s that the
pages show as readable messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class ApiError(Exception):
    status: int
    detail: str
    field_errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, response: httpx.Response) -> ApiError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        errors = {
            str(e.get("field") or ""): str(e.get("reason") or e.get("message") or "")
            for e in body.get("errors") or []
            if isinstance(e, dict)
        }
        detail = str(body.get("detail") or body.get("title") or response.reason_phrase)
        return cls(response.status_code, detail, errors)


class Services:
    """One node's enrollment, awards and notifications base URLs behind one client."""

    def __init__(self, urls: dict[str, str], timeout: float, transport: Any = None) -> None:
        self.urls = urls
        self.http = httpx.AsyncClient(
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        token: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        response = await self.http.request(
            method,
            self.urls[service] + path,
            params={k: v for k, v in (params or {}).items() if v not in (None, "")},
            json=json,
            headers={"Authorization": f"Bearer {token}"},
        )
        if response.status_code >= 400:
            raise ApiError.of(response)
        return response.json() if response.content else None

    def stream(
        self, service: str, path: str, token: str, headers: dict[str, str], params: dict[str, Any]
    ) -> Any:
        """An open-ended GET (Server-Sent Events): no read timeout, the server pings."""
        return self.http.stream(
            "GET",
            self.urls[service] + path,
            params=params,
            headers={"Authorization": f"Bearer {token}", **headers},
            timeout=httpx.Timeout(10, read=None),
        )

    async def aclose(self) -> None:
        await self.http.aclose()
