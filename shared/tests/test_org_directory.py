"""The node filter on SQLite: which events a node keeps, decided from `bigschool_orgs` alone.

The tree (node in brackets):

    cn [cn]
    ├── zj [zj]                      <- this node's root
    │   └── zj-hz [zj]
    │       ├── hz-bus [zj]
    │       │   └── hz-bus-depot [zj]
    │       └── hzsteel [hzsteel]    <- a descendant running its own node
    │           └── hzsteel-rolling [hzsteel]
    ├── js [js]                      <- a sibling subtree
    │   └── js-nj [js]
    └── east [cn]
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.clock import FixedClock
from shared.contracts.events import OrgLevel, OrgRegistered
from shared.db import Database, new_metadata
from shared.messaging.consumer import is_transient
from shared.messaging.holds import Held
from shared.orgs.authority import Org
from shared.orgs.directory import OrgDirectory, UnknownOrg, org_table

TREE = [
    ("cn", None, OrgLevel.superior, "cn"),
    ("zj", "cn", OrgLevel.superior, "zj"),
    ("zj-hz", "zj", OrgLevel.superior, "zj"),
    ("hz-bus", "zj-hz", OrgLevel.enterprise, "zj"),
    ("hz-bus-depot", "hz-bus", OrgLevel.grassroots, "zj"),
    ("hzsteel", "zj-hz", OrgLevel.enterprise, "hzsteel"),
    ("hzsteel-rolling", "hzsteel", OrgLevel.grassroots, "hzsteel"),
    ("js", "cn", OrgLevel.superior, "js"),
    ("js-nj", "js", OrgLevel.grassroots, "js"),
    ("east", "cn", OrgLevel.superior, "cn"),
]
NOW = datetime(2025, 3, 1, tzinfo=UTC)
TABLE = org_table(new_metadata())


def org(org_id: str, parent: str | None, level: OrgLevel, node: str) -> OrgRegistered:
    return OrgRegistered(
        org_id=org_id, name=org_id.upper(), parent_id=parent, level=level, hosted_by=node
    )


async def register(directory: OrgDirectory, event: OrgRegistered) -> None:
    """Write the org into the replica (who may write what: test_org_authority.py)."""
    state = Org(event.org_id, event.name, event.parent_id, event.level.value, event.hosted_by)
    async with directory.db.transaction() as session:
        await directory.apply(session, state)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'orgs.db'}")
    async with database.engine.begin() as conn:
        await conn.run_sync(TABLE.metadata.create_all)
    yield database
    await database.dispose()


@pytest.fixture
async def directory(db: Database) -> OrgDirectory:
    directory = OrgDirectory(db, TABLE, node_id="zj", root_org="zj", clock=FixedClock(NOW))
    for row in TREE:
        await register(directory, org(*row))
    return directory


async def test_an_event_about_an_org_this_node_hosts_is_kept(directory: OrgDirectory) -> None:
    assert await directory.relevant(("hz-bus-depot",))
    assert await directory.relevant(("zj",))


async def test_an_event_about_an_ancestor_of_the_root_is_kept(directory: OrgDirectory) -> None:
    # e.g. a programme the national federation opens to everyone below it
    assert await directory.relevant(("cn",))


async def test_an_event_about_a_sibling_subtree_is_dropped(directory: OrgDirectory) -> None:
    assert not await directory.relevant(("js",))
    assert not await directory.relevant(("js-nj",))
    assert not await directory.relevant(("east",))  # hosted here? no: a sibling of zj


async def test_an_event_about_a_descendant_with_its_own_node_is_dropped(
    directory: OrgDirectory,
) -> None:
    assert not await directory.relevant(("hzsteel-rolling",))
    assert not await directory.relevant(("hzsteel",))


async def test_one_relevant_org_in_the_header_is_enough(directory: OrgDirectory) -> None:
    assert await directory.relevant(("js-nj", "hz-bus"))
    assert not await directory.relevant(("js-nj", "hzsteel"))


async def test_an_unknown_org_raises_unknown_org_which_holds_the_message(
    directory: OrgDirectory,
) -> None:
    with pytest.raises(UnknownOrg) as caught:
        await directory.relevant(("not-replicated-yet",))
    assert isinstance(caught.value, Held)  # held for a while, not dead-lettered at once
    assert not is_transient(caught.value)  # …and not retried without end either
    assert caught.value.reason == "unknown_org"


async def test_a_gap_in_the_parent_chain_raises_unknown_org(directory: OrgDirectory) -> None:
    await register(directory, org("orphan", "missing-parent", OrgLevel.grassroots, "zj"))
    with pytest.raises(UnknownOrg, match="missing-parent"):
        await directory.ancestors("orphan")


async def test_the_rules_hold_for_a_fresh_directory_reading_the_database(
    db: Database, directory: OrgDirectory
) -> None:
    fresh = OrgDirectory(db, TABLE, node_id="zj", root_org="zj")
    assert await fresh.relevant(("hz-bus-depot",))
    assert await fresh.relevant(("cn",))
    assert not await fresh.relevant(("js-nj",))
    assert await fresh.ancestors("hzsteel-rolling") == ["hzsteel", "zj-hz", "zj", "cn"]


async def test_a_root_moved_in_the_tree_changes_which_ancestors_are_kept(
    directory: OrgDirectory,
) -> None:
    assert not await directory.relevant(("east",))
    await register(directory, org("zj", "east", OrgLevel.superior, "zj"))
    assert await directory.relevant(("east",))
    assert await directory.relevant(("cn",))


async def test_a_re_registered_org_replaces_its_state(
    db: Database, directory: OrgDirectory
) -> None:
    await register(directory, org("js-nj", "js", OrgLevel.grassroots, "zj"))  # handed over
    assert await directory.relevant(("js-nj",))
    fresh = OrgDirectory(db, TABLE, node_id="zj", root_org="zj")
    assert await fresh.hosts("js-nj")


async def test_subtree_membership(directory: OrgDirectory) -> None:
    assert await directory.is_within("hzsteel-rolling", "zj")
    assert await directory.is_within("zj", "zj")
    assert not await directory.is_within("js-nj", "zj")
    assert await directory.hosts("hz-bus") and not await directory.hosts("hzsteel")


async def test_the_nodes_within_a_subtree_are_its_own_node_and_those_below_it(
    db: Database, directory: OrgDirectory
) -> None:
    async with db.reading() as session:
        assert await directory.nodes_within("zj", session) == ["hzsteel", "zj"]
        assert await directory.nodes_within("zj-hz", session) == ["hzsteel", "zj"]
        assert await directory.nodes_within("cn", session) == ["cn", "hzsteel", "js", "zj"]


async def test_a_subtree_inside_one_node_is_that_node_alone(
    db: Database, directory: OrgDirectory
) -> None:
    async with db.reading() as session:
        assert await directory.nodes_within("hz-bus", session) == ["zj"]
        assert await directory.nodes_within("hzsteel", session) == ["hzsteel"]
        assert await directory.nodes_within("east", session) == ["cn"]  # not js, not zj


async def test_the_nodes_within_an_unknown_org_raise_unknown_org(
    db: Database, directory: OrgDirectory
) -> None:
    async with db.reading() as session:
        with pytest.raises(UnknownOrg):
            await directory.nodes_within("not-replicated-yet", session)
