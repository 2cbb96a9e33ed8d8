"""For tests of the portal: its node's services faked by an httpx.MockTransport that answers
like them and records every request, and a signed-in browser's side of the portal."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from portal.app import create_app
from portal.settings import PortalSettings
from shared.auth.keys import generate_keys, kid_of

Handler = Callable[[httpx.Request], httpx.Response | None]
PROGRAMME = {
    "programme_id": "p1",
    "owner_org": "steel",
    "owner_node": "n1",
    "title": "Crane safety",
    "kind": "training_course",
    "quality_area": "safety_health",
    "capacity": 10,
    "hours": 8,
    "starts_at": "2026-03-02T01:30:00Z",
    "ends_at": "2026-03-02T09:30:00Z",
}
PREFERENCES = {
    "language": None,
    "time_zone": "Asia/Shanghai",
    "quiet_hours": None,
    "digest_hour": None,
    "channels": {"learning": ["inapp"]},
    "recipient_id": "m1",
    "home_org": "steel-rolling",
    "effective": {"language": "zh"},
}


@dataclass
class FakeServices:
    """Answers the few calls the pages make; `special` answers first when it returns one."""

    seen: list[httpx.Request] = field(default_factory=list)
    special: list[Handler] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        for handler in self.special:
            if (answer := handler(request)) is not None:
                return answer
        route = (request.method, request.url.host, request.url.path)
        answers: dict[tuple[str, str, str], Any] = {
            ("GET", "notifications", "/inbox/unread"): {"unread": 2},
            ("GET", "notifications", "/preferences/me"): PREFERENCES,
            ("PUT", "notifications", "/preferences/me"): PREFERENCES,
            ("GET", "enrollment", "/programmes"): {"items": [PROGRAMME], "next_cursor": None},
            ("GET", "enrollment", "/programmes/p1"): PROGRAMME,
        }
        if route in answers:
            return httpx.Response(200, json=answers[route])
        return httpx.Response(404, json={"title": "Not found", "detail": "no such thing"})

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.seen if r.method == method and r.url.path == path]


def answering(method: str, path: str, body: Any, status: int = 200) -> Handler:
    """A `FakeServices.special` handler: `method path` gets `body` (JSON; bytes go out as a
    CSV file) with `status`; any other request is left to the next handler."""

    def handler(request: httpx.Request) -> httpx.Response | None:
        if request.method == method and request.url.path == path:
            if isinstance(body, bytes):
                return httpx.Response(status, content=body, headers={"content-type": "text/csv"})
            return httpx.Response(status, json=body)
        return None

    return handler


@dataclass
class Portal:
    http: httpx.AsyncClient
    services: FakeServices
    settings: PortalSettings

    async def csrf(self, path: str = "/signin") -> str:
        page = await self.http.get(path)
        marker = 'name="csrf" value="'
        start = page.text.index(marker) + len(marker)
        return page.text[start : page.text.index('"', start)]

    async def sign_in(self, person: str = "member") -> None:
        token = await self.csrf()
        answer = await self.http.post("/signin", data={"csrf": token, "person": person})
        assert answer.status_code == 303, answer.text


@asynccontextmanager
async def running_portal(settings: PortalSettings, services: FakeServices) -> AsyncIterator[Portal]:
    """A portal built by the real `create_app`, its node's services faked by `services`."""
    app = create_app(settings, transport=httpx.MockTransport(services))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal") as http:
        yield Portal(http, services, settings)


def people_file(folder: Path) -> Path:
    path = folder / "people.json"
    people = [
        {"key": "member", "name": "王芳", "org": "steel-rolling", "roles": ["member"],
         "member_id": "m1"},
        {"key": "cadre", "name": "Cadre Zhang", "org": "steel-rolling", "roles": ["cadre"]},
    ]  # fmt: skip
    path.write_text(json.dumps(people, ensure_ascii=False), encoding="utf-8")
    return path


def portal_settings(folder: Path, **overrides: Any) -> PortalSettings:
    private, jwks = generate_keys(folder / "keys")
    values: dict[str, Any] = {
        "node_id": "n1",
        "enrollment_url": "http://enrollment",
        "awards_url": "http://awards",
        "notifications_url": "http://notifications",
        "session_key": Fernet.generate_key().decode(),
        "cookie_secure": False,
        "demo_private_key_path": private,
        "demo_kid": kid_of(jwks),
        "demo_people_path": people_file(folder),
        **overrides,
    }
    return PortalSettings(**values)
