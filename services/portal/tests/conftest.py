"""A portal built by the real `create_app`, its node's services faked (portal.testing)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from portal.app import create_app
from portal.testing import FakeServices, Portal, portal_settings


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[Portal]:
    services = FakeServices()
    settings = portal_settings(tmp_path)
    app = create_app(settings, transport=httpx.MockTransport(services))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal") as http:
        yield Portal(http, services, settings)
