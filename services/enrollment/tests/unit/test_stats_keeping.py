"""Keeping roll-up snapshots: a node keeps the snapshots of every org below an org it hosts
(its own come back through the topic too), never an older version over a newer one, and
only from the node hosting the org."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from enrollment.models import StatsSnapshotRow
from enrollment.service.stats import keep_snapshot
from enrollment.settings import EnrollmentSettings
from shared.contracts import topics
from shared.contracts.envelope import envelope_for
from shared.contracts.events import AreaFigures, OrgLevel, QualityArea, StatsSnapshot
from shared.messaging.consumer import Outcome, Rejected
from shared.orgs.authority import Org
from shared.testing import migrated, record_for

NOW = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)
YEAR = 2030
# A node below zj's: hzbus is hosted by node hzbus, under zj-hz (hosted here).
BELOW = [
    ("hzbus", "zj-hz", OrgLevel.enterprise, "hzbus"),
    ("hzbus-depot", "hzbus", OrgLevel.grassroots, "hzbus"),
]


def snapshot(org: str, parent: str | None, node: str, version: int = 1, **figures: Any):
    return StatsSnapshot(
        org_id=org,
        year=YEAR,
        version=version,
        level="grassroots",
        parent_id=parent,
        hosted_by=node,
        generated_at=NOW,
        **figures,
    )


async def deliver(service, event: StatsSnapshot, node: str | None = None) -> Outcome:
    consumer = next(c for c in service.app.state.runtime.consumers if c.spec.name == "stats")
    source = f"bigschool/{node or event.hosted_by}/enrollment"
    envelope = envelope_for(event, source=source, at=NOW)
    return await consumer.process(record_for(event, envelope, topic=topics.STATS))


async def kept(service) -> dict[str, StatsSnapshotRow]:
    async with service.db.reading() as session:
        rows = (await session.execute(select(StatsSnapshotRow))).scalars().all()
    return {row.org_id: row for row in rows}


@pytest.fixture
async def zj(node, seed_orgs):
    await seed_orgs(node.ctx, node.db, BELOW)
    return node


async def test_a_snapshot_of_an_org_hosted_here_is_kept_with_its_figures(zj) -> None:
    event = snapshot(
        "hzsteel-rolling",
        "hzsteel",
        "zj",
        members=40,
        participants=12,
        areas={QualityArea.ethics: AreaFigures(hours=7.5, completions=3)},
        committed_fen=100,
        spent_fen=50,
    )

    assert await deliver(zj, event) == Outcome.handled

    row = (await kept(zj))["hzsteel-rolling"]
    assert (row.members, row.participants, row.version, row.year) == (40, 12, 1, YEAR)
    assert (row.hours_ethics, row.completions_ethics, row.hours_safety_health) == (7.5, 3, 0)
    assert (row.committed_fen, row.spent_fen, row.hosted_by) == (100, 50, "zj")


async def test_a_node_hosting_an_ancestor_keeps_a_snapshot_of_another_nodes_org(zj) -> None:
    assert await deliver(zj, snapshot("hzbus-depot", "hzbus", "hzbus", members=9)) == (
        Outcome.handled
    )

    assert (await kept(zj))["hzbus-depot"].members == 9


async def test_a_snapshot_of_a_sibling_nodes_org_is_not_kept(zj) -> None:
    # js-nj is under js (node js), beside zj: node zj hosts none of its ancestors.
    assert await deliver(zj, snapshot("js-nj", "js", "js", members=9)) == Outcome.filtered
    assert await kept(zj) == {}


async def test_the_sibling_node_keeps_its_own_and_not_ours(
    make_service, settings: EnrollmentSettings, tmp_path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'js.db'}"
    from enrollment.app import MIGRATIONS

    await migrated(MIGRATIONS, url)
    js = await make_service(
        settings.model_copy(update={"node_id": "js", "root_org": "js", "database_url": url})
    )

    assert await deliver(js, snapshot("js-nj", "js", "js", members=9)) == Outcome.handled
    assert await deliver(js, snapshot("hzsteel-rolling", "hzsteel", "zj")) == Outcome.filtered
    assert set(await kept(js)) == {"js-nj"}


async def test_an_older_version_never_overwrites_a_newer_one(zj) -> None:
    await deliver(zj, snapshot("hzsteel-rolling", "hzsteel", "zj", version=3, members=30))
    await deliver(zj, snapshot("hzsteel-rolling", "hzsteel", "zj", version=2, members=20))
    await deliver(zj, snapshot("hzsteel-rolling", "hzsteel", "zj", version=3, members=33))
    assert (await kept(zj))["hzsteel-rolling"].members == 30

    await deliver(zj, snapshot("hzsteel-rolling", "hzsteel", "zj", version=4, members=40))
    assert (await kept(zj))["hzsteel-rolling"].version == 4
    assert (await kept(zj))["hzsteel-rolling"].members == 40


async def test_a_snapshot_of_an_org_not_replicated_yet_is_held(zj) -> None:
    assert await deliver(zj, snapshot("zj-new", "zj", "zj")) == Outcome.held


async def test_only_the_node_hosting_the_org_speaks_for_it(zj) -> None:
    event = snapshot("hzbus-depot", "hzbus", "hzbus", members=1000)
    forged = envelope_for(event, source="bigschool/zj/enrollment", at=NOW)

    with pytest.raises(Rejected) as refused:
        async with zj.db.transaction() as session:
            await keep_snapshot(session, zj.ctx, event, forged)
    assert refused.value.reason == "snapshot_not_from_hosting_node"


async def test_the_relevance_rule_reads_the_tree_replica(zj) -> None:
    orgs = zj.ctx.orgs

    assert await orgs.relevant_below(("zj",))  # hosted here
    assert await orgs.relevant_below(("hzbus-depot",))  # an ancestor (zj-hz) hosted here
    assert not await orgs.relevant_below(("cn",))  # above: no ancestor-or-self here
    assert not await orgs.relevant_below(("js-nj",))
    async with zj.db.transaction() as session:  # hzbus moves under js: no longer ours
        await orgs.apply(session, Org("hzbus", "HZBUS", "js", "enterprise", "hzbus"))
    assert not await orgs.relevant_below(("hzbus-depot",))
