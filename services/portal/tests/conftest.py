"""A portal built by the real `create_app`, its node's services faked (portal.testing)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from portal.testing import FakeServices, Portal, portal_settings, running_portal


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[Portal]:
    async with running_portal(portal_settings(tmp_path), FakeServices()) as running:
        yield running
