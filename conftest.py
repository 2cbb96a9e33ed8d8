"""Fixtures every test folder can use: real Kafka, PostgreSQL and SMTP (see tests/fixtures.py),
and how scripts/test shares the tests between two pytest-xdist workers."""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.fixtures"]

E2E = "tests/e2e/"


def scope_of(nodeid: str) -> str:
    """The unit of work a worker takes whole: a test file (its module fixtures start once),
    and all the end-to-end tests together: one worker runs them against the one federation
    it starts (two federations idling side by side cost more than they save)."""
    path = nodeid.split("::", 1)[0]
    return "e2e" if path.startswith(E2E) else path


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    from xdist.scheduler import LoadScopeScheduling

    class ByScope(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    return ByScope(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On xdist's workers the end-to-end tests, the longest unit, come first: one worker
    starts on them while the other takes the files, one after another."""
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: not item.nodeid.startswith(E2E))
