"""Publishing roll-up snapshots: changes mark (org, year) dirty in their own transaction; the
publisher counts the marked orgs' own figures and stages one snapshot per changed key on the
stats topic (version = last + 1); unchanged figures publish nothing. The whole node runs
in-process: outbox rows go to its own consumers, as the relay and Kafka would deliver them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from enrollment.models import StatsDirty, StatsPublished, StatsSnapshotRow
from enrollment.service.stats_marks import mark_dirty
from enrollment.service.stats_publisher import StatsPublisher
from shared.clock import FixedClock
from shared.contracts import topics
from shared.testing import register_members

NOW = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)
YEAR = 2030
SNAPSHOT = "bigschool.stats.snapshot.v1"


@pytest.fixture
async def zj(make_service, settings, relay_loop):
    service = await make_service(settings, FixedClock(NOW))
    return service, relay_loop(service), StatsPublisher(service.db, service.ctx)


def _snapshots(delivered: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["key"]: d for d in delivered if d["type"] == SNAPSHOT}


async def _count(service, model) -> int:
    async with service.db.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_marks_accumulate_and_one_snapshot_per_org_and_year_is_published(zj, token) -> None:
    service, loop, publisher = zj
    await register_members(service.client, token, 3, "hzsteel-rolling")
    await register_members(service.client, token, 1, "hzsteel-casting")
    await loop.run()  # the members' own topic only: nothing published yet

    assert await _count(service, StatsDirty) == 4  # one mark per transaction
    assert await publisher.run_once() == 2
    snapshots = _snapshots(await loop.run())

    assert set(snapshots) == {f"hzsteel-rolling:{YEAR}", f"hzsteel-casting:{YEAR}"}
    rolling = snapshots[f"hzsteel-rolling:{YEAR}"]
    assert (rolling["members"], rolling["version"], rolling["level"]) == (3, 1, "grassroots")
    assert (rolling["parent_id"], rolling["hosted_by"]) == ("hzsteel", "zj")
    assert snapshots[f"hzsteel-casting:{YEAR}"]["members"] == 1
    assert await _count(service, StatsDirty) == 0  # the run took every mark


async def test_a_snapshot_goes_to_the_compacted_stats_topic_keyed_by_org_and_year(
    zj, token, outbox
) -> None:
    service, _, publisher = zj
    await register_members(service.client, token, 1, "hzsteel-rolling")

    await publisher.run_once()

    [row] = [r for r in await outbox(service.db) if r.type == SNAPSHOT]
    assert (row.topic, row.key) == (topics.STATS, f"hzsteel-rolling:{YEAR}")
    assert row.headers["bigschool_orgs"] == "hzsteel-rolling"
    assert row.headers["ce_subject"] == f"hzsteel-rolling:{YEAR}"
    assert "Worker" not in row.raw_payload and "example.org" not in row.raw_payload


async def test_unchanged_figures_publish_nothing_and_a_change_the_next_version(zj, token) -> None:
    service, loop, publisher = zj
    await register_members(service.client, token, 2, "hzsteel-rolling")
    await publisher.run_once()
    await loop.run()

    async with service.db.transaction() as session:  # marked, but nothing changed
        mark_dirty(session, "hzsteel-rolling", YEAR)
    assert await publisher.run_once() == 0
    await register_members(service.client, token, 1, "hzsteel-rolling")
    assert await publisher.run_once() == 1

    [again] = _snapshots(await loop.run()).values()
    assert (again["members"], again["version"]) == (3, 2)


async def test_an_org_with_nothing_to_say_is_not_published(zj) -> None:
    service, loop, publisher = zj

    assert await publisher.run_once() == 0  # every hosted org marked at start: all empty
    assert _snapshots(await loop.run()) == {}
    assert await _count(service, StatsPublished) == 0


async def test_an_org_hosted_elsewhere_is_never_published_here(zj) -> None:
    service, _, publisher = zj
    async with service.db.transaction() as session:
        mark_dirty(session, "js-nj", YEAR)

    assert await publisher.run_once() == 0
    assert await _count(service, StatsDirty) == 0


async def test_a_rolled_back_change_leaves_no_mark(zj) -> None:
    service, _, _ = zj
    with pytest.raises(RuntimeError):
        async with service.db.transaction() as session:
            mark_dirty(session, "hzsteel-rolling", YEAR)
            raise RuntimeError("the change failed")

    assert await _count(service, StatsDirty) == 0


async def test_batches_are_bounded_and_the_run_takes_them_all(zj, token) -> None:
    service, _, publisher = zj
    publisher.batch = 1
    await register_members(service.client, token, 2, "hzsteel-rolling")
    await register_members(service.client, token, 2, "hzsteel-casting")

    assert await publisher.run_once() == 2
    assert await _count(service, StatsDirty) == 0


async def test_a_new_member_counts_in_a_later_year_already_published(
    make_service, settings, token, relay_loop
) -> None:
    clock = FixedClock(NOW)
    service = await make_service(settings, clock)
    loop, publisher = relay_loop(service), StatsPublisher(service.db, service.ctx)
    await register_members(service.client, token, 1, "hzsteel-rolling")
    clock.at = datetime(2031, 2, 1, tzinfo=UTC)  # a new year: every hosted org is marked
    await publisher.run_once()
    first = _snapshots(await loop.run())
    assert first[f"hzsteel-rolling:{YEAR}"]["members"] == 1
    assert first[f"hzsteel-rolling:{YEAR + 1}"]["members"] == 1

    clock.at = datetime(2030, 12, 31, 12, tzinfo=UTC)  # a late registration of 2030
    await register_members(service.client, token, 1, "hzsteel-rolling")
    await publisher.run_once()
    later = _snapshots(await loop.run())

    assert later[f"hzsteel-rolling:{YEAR}"]["members"] == 2
    assert later[f"hzsteel-rolling:{YEAR + 1}"]["members"] == 2  # counts in 2031 too


async def _programme(service, token, programme_body, **fields: Any) -> str:
    body = programme_body(**{"capacity": 2, "cost_per_seat_fen": 500, **fields})
    response = await service.client.post(
        "/programmes", json=body, headers=token("hzsteel", "cadre")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["programme_id"])


async def _enrol(service, token, pid: str, member_id: str) -> str:
    response = await service.client.post(
        "/enrollments",
        json={"programme_id": pid},
        headers=token("hzsteel-rolling", "member", member_id=member_id),
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def test_participants_hours_and_money_follow_the_enrollments(
    zj, token, programme_body
) -> None:
    service, loop, publisher = zj
    cadre = token("hzsteel", "cadre")
    budget = {"union_fund_fen": 1_000_000, "education_share_bp": 1_000}
    assert (
        await service.client.put(f"/budgets/hzsteel/{YEAR}", json=budget, headers=cadre)
    ).status_code == 200
    members = await register_members(service.client, token, 4, "hzsteel-rolling")
    pid = await _programme(service, token, programme_body)
    enrollments = [await _enrol(service, token, pid, m) for m in members[:3]]
    await loop.run()  # two confirmed (1000 fen committed), one waitlisted
    await service.client.post(
        f"/programmes/{pid}/attendance",
        json={"enrollment_ids": enrollments[:2], "attended": True},
        headers=cadre,
    )
    await service.client.post(
        f"/programmes/{pid}/seats/{enrollments[0]}/completion", json={}, headers=cadre
    )
    await service.client.post(
        f"/enrollments/{enrollments[2]}/cancel",
        headers=token("hzsteel-rolling", "member", member_id=members[2]),
    )
    await loop.run()

    await publisher.run_once()
    snapshots = _snapshots(await loop.run())

    rolling = snapshots[f"hzsteel-rolling:{YEAR}"]
    assert (rolling["members"], rolling["participants"]) == (4, 2)  # the cancelled one left
    assert rolling["areas"] == {"safety_health": {"hours": 8.0, "completions": 1}}
    hzsteel = snapshots[f"hzsteel:{YEAR}"]
    assert (hzsteel["committed_fen"], hzsteel["spent_fen"]) == (500, 500)
    assert hzsteel["members"] == 0
    async with service.db.reading() as session:  # and the node kept its own snapshots
        kept = (await session.execute(select(StatsSnapshotRow))).scalars().all()
    assert {(k.org_id, k.members, k.participants) for k in kept} >= {
        ("hzsteel-rolling", 4, 2),
        ("hzsteel", 0, 0),
    }


async def test_a_revoked_completion_leaves_the_figures(zj, token) -> None:
    service, loop, publisher = zj
    from enrollment.service.learning import record_completion, revoke_completion
    from shared.contracts.envelope import envelope_for
    from shared.contracts.events import (
        EnrollmentCompleted,
        EnrollmentCompletionRevoked,
        QualityArea,
    )

    [member] = await register_members(service.client, token, 1, "hzsteel-rolling")
    done = EnrollmentCompleted(
        enrollment_id="e-1",
        programme_id="p-1",
        member_id=member,
        owner_org="hzsteel",
        home_org="hzsteel-rolling",
        completed_at=NOW,
        hours=6.5,
        quality_area=QualityArea.ethics,
        programme_title="Ethics",
        programme_kind="lecture",
        programme_ends_at=NOW,
    )
    envelope = envelope_for(done, source="bigschool/zj/enrollment", at=NOW)
    async with service.db.transaction() as session:
        await record_completion(session, service.ctx, done, envelope)
    await publisher.run_once()
    first = _snapshots(await loop.run())[f"hzsteel-rolling:{YEAR}"]
    revoked = EnrollmentCompletionRevoked(
        enrollment_id="e-1",
        programme_id="p-1",
        member_id=member,
        owner_org="hzsteel",
        home_org="hzsteel-rolling",
        revoked_at=NOW + timedelta(days=1),
        reason="wrong member",
    )
    async with service.db.transaction() as session:
        await revoke_completion(session, service.ctx, revoked, envelope)
    await publisher.run_once()
    second = _snapshots(await loop.run())[f"hzsteel-rolling:{YEAR}"]

    assert first["areas"] == {"ethics": {"hours": 6.5, "completions": 1}}
    assert (second["areas"], second["version"]) == ({}, first["version"] + 1)
