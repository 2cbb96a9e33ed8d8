"""Fixtures every test folder can use: real Kafka, PostgreSQL and SMTP (see tests/fixtures.py)."""

import pytest

pytest_plugins = ["tests.fixtures"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`--dist loadgroup`, see scripts/test) a test file stays on one
    worker, so its module fixtures start once; every end-to-end test shares one worker, the
    one that starts the federation (one per worker would double two nodes of processes).
    The end-to-end tests, the longest group, go first: the other workers share the rest."""
    for item in items:
        group = "e2e" if item.get_closest_marker("e2e") else item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))
    if config.getoption("dist", "no") != "no":
        items.sort(key=lambda item: item.get_closest_marker("e2e") is None)
