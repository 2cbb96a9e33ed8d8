"""The member's honours record at the home node: each `HonourGranted` is kept once per member,
for members hosted here only; it stays (pseudonymous) when the member leaves the union, and
travels with them when they move to another node. Titles held feed the criteria."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy import delete, inspect, select

from awards import honours_repository
from awards.models import MESSAGING, Honour
from shared.contracts import topics
from shared.contracts.events import (
    BenefitKind,
    HeldHonour,
    HonourGranted,
    HonourKind,
    HonoursTransferred,
    MemberLeft,
    MemberTransferred,
    OrgLevel,
    OrgRegistered,
    SchemeKind,
)
from shared.messaging.consumer import Outcome
from shared.testing import staged

MEMBER = "7a2e4c6d-1b3f-4a5c-8d7e-9f0a1b2c3d01"
TEAMMATE = "7a2e4c6d-1b3f-4a5c-8d7e-9f0a1b2c3d02"
GRANTED_AT = datetime(2025, 5, 20, 2, 0, tzinfo=UTC)


def granted(
    *member_ids: str,
    home_org: str = "hzsteel-rolling",
    granting_org: str = "zj",
    kind: HonourKind = HonourKind.award,
    scheme_kind: SchemeKind | None = SchemeKind.model_worker,
    amount_fen: int = 500_000,
    year: int | None = 2025,
    granted_at: datetime = GRANTED_AT,
    team_name: str | None = None,
) -> HonourGranted:
    return HonourGranted(
        honour_id=str(uuid.uuid4()),
        kind=kind,
        source_id=str(uuid.uuid4()),
        scheme_id=str(uuid.uuid4()) if scheme_kind else None,
        scheme_kind=scheme_kind,
        title="Provincial model worker",
        granting_org=granting_org,
        home_org=home_org,
        member_ids=list(member_ids or [MEMBER]),
        team_name=team_name,
        amount_fen=amount_fen,
        benefits=[BenefitKind.cash, BenefitKind.recuperation_leave],
        reason="Ten years without a safety incident",
        year=year,
        granted_at=granted_at,
    )


async def honours(app: FastAPI) -> list[Honour]:
    async with app.state.runtime.db.sessions() as session:
        stmt = select(Honour).order_by(Honour.granted_at, Honour.member_id)
        return list((await session.execute(stmt)).scalars())


async def deliver(bus, event, handler: str = "honours", topic: str = topics.AWARDS):
    record, envelope = bus.record(event, topic)
    return await bus.deliver(handler, record), envelope, record


async def test_an_honour_of_a_hosted_member_goes_on_their_record_citing_its_event(app, bus) -> None:
    event = granted()

    outcome, envelope, _ = await deliver(bus, event)

    assert outcome is Outcome.handled
    [entry] = await honours(app)
    assert (entry.honour_id, entry.member_id, entry.ce_id) == (
        event.honour_id,
        MEMBER,
        envelope.id,
    )
    assert (entry.kind, entry.scheme_kind, entry.amount_fen, entry.year) == (
        "award",
        "model_worker",
        500_000,
        2025,
    )
    assert (entry.home_org, entry.granting_org) == ("hzsteel-rolling", "zj")
    assert entry.benefits == ["cash", "recuperation_leave"]


async def test_a_redelivered_or_replayed_grant_adds_nothing(app, bus) -> None:
    _, _, record = await deliver(bus, granted())

    assert await bus.deliver("honours", record) is Outcome.duplicate
    async with app.state.runtime.db.transaction() as session:  # processed records expired
        await session.execute(delete(MESSAGING.processed))
    assert await bus.deliver("honours", record) is Outcome.handled

    assert len(await honours(app)) == 1


async def test_a_teams_honour_is_on_each_members_record(app, bus) -> None:
    event = granted(MEMBER, TEAMMATE, MEMBER, team_name="No. 3 rolling line")

    await deliver(bus, event)

    entries = await honours(app)
    assert sorted(e.member_id for e in entries) == sorted([MEMBER, TEAMMATE])
    assert {(e.honour_id, e.team_name) for e in entries} == {
        (event.honour_id, "No. 3 rolling line")
    }
    assert len({e.record_id for e in entries}) == 2


async def test_an_honour_of_another_nodes_member_is_not_recorded_here(app, bus) -> None:
    # zj is above this node, so the header keeps the event; the member is otherco's.
    outcome, _, _ = await deliver(bus, granted(home_org="otherco-line", granting_org="zj"))

    assert outcome is Outcome.handled
    assert await honours(app) == []


async def test_an_honour_between_other_nodes_orgs_is_filtered_from_the_header(app, bus) -> None:
    event = granted(home_org="otherco-line", granting_org="otherco")

    outcome, _, _ = await deliver(bus, event)

    assert outcome is Outcome.filtered
    assert await honours(app) == []


async def test_an_honour_for_a_home_org_not_yet_replicated_waits_for_the_tree(app, bus) -> None:
    outcome, _, record = await deliver(bus, granted(home_org="hzsteel-press"))
    assert outcome is Outcome.held

    await bus.publish(
        OrgRegistered(
            org_id="hzsteel-press",
            name="Press",
            parent_id="hzsteel",
            level=OrgLevel.grassroots,
            hosted_by="hzsteel",
        )
    )

    assert await bus.deliver("honours", record) is Outcome.handled
    assert [e.home_org for e in await honours(app)] == ["hzsteel-press"]


async def test_an_honour_without_a_year_belongs_to_the_year_granted_in_the_federation_zone(
    app, bus
) -> None:
    # 2025-12-31T17:00Z is already 2026 in Shanghai.
    late = datetime(2025, 12, 31, 17, 0, tzinfo=UTC)
    await deliver(
        bus, granted(kind=HonourKind.reward, scheme_kind=None, year=None, granted_at=late)
    )

    [entry] = await honours(app)
    assert entry.year == 2026


async def test_titles_held_are_the_scheme_kinds_of_award_honours_only(app, bus) -> None:
    await deliver(bus, granted(scheme_kind=SchemeKind.skilled_craftsman))
    await deliver(bus, granted(kind=HonourKind.reward, scheme_kind=SchemeKind.immediate_reward))
    await deliver(bus, granted(TEAMMATE, scheme_kind=SchemeKind.model_worker))

    async with app.state.runtime.db.reading() as session:
        held = await honours_repository.titles_held(session, MEMBER)

    assert held == {"skilled_craftsman"}


async def test_the_record_keeps_no_personal_data_and_stays_when_the_member_leaves(app, bus) -> None:
    await deliver(bus, granted())
    left = MemberLeft(
        member_id=MEMBER, home_org="hzsteel-rolling", left_at=GRANTED_AT, reason="left"
    )

    assert (await deliver(bus, left, "members", topics.members("hzsteel")))[0] is Outcome.handled

    assert [e.member_id for e in await honours(app)] == [MEMBER]
    columns = {c.key for c in inspect(Honour).columns}
    assert not columns & {"display_name", "name", "email", "phone", "national_id"}


async def outbox(app: FastAPI) -> list[tuple[str, dict]]:
    return [(m.topic, m.body) for m in await staged(app.state.runtime.db, MESSAGING.outbox)]


async def test_the_old_home_hands_the_honours_over_with_the_member_and_forgets_them(
    app, bus, completed
) -> None:
    title = granted()
    await deliver(bus, title)
    done = completed(MEMBER, rank=2, score=90.0, programme_kind="skills_competition")
    await bus.publish(done)
    await deliver(bus, granted(TEAMMATE))
    moved = MemberTransferred(
        member_id=MEMBER,
        from_org="hzsteel-rolling",
        to_org="otherco-line",
        to_node="oc",
        transferred_at=datetime(2025, 7, 1, tzinfo=UTC),
    )

    outcome, _ = await bus.publish(moved)

    assert outcome is Outcome.handled
    assert [e.member_id for e in await honours(app)] == [TEAMMATE]
    [(topic, handed)] = await outbox(app)
    assert topic == topics.AWARDS
    [held] = handed["honours"]
    assert (held["honour_id"], held["kind"], held["scheme_kind"]) == (
        title.honour_id,
        "award",
        "model_worker",
    )
    assert "member_ids" not in held  # only the moving member's own entry travels
    [fact] = handed["facts"]  # a completion keeps its result on the way
    assert (fact["enrollment_id"], fact["rank"], fact["programme_kind"]) == (
        done.enrollment_id,
        2,
        "skills_competition",
    )


async def test_the_new_home_keeps_the_honours_that_came_with_the_member(app, bus) -> None:
    held = HeldHonour(
        honour_id="h-1",
        kind=HonourKind.award,
        source_id="nomination-1",
        scheme_kind=SchemeKind.pioneer_worker,
        title="Pioneer worker",
        granting_org="zj",
        amount_fen=100_000,
        year=2024,
        granted_at=datetime(2024, 5, 1, tzinfo=UTC),
        ce_id="c0ffee00-0000-4000-8000-000000000009",
    )
    arrived = HonoursTransferred(
        member_id=MEMBER,
        from_org="otherco-line",
        to_org="hzsteel-casting",
        transferred_at=datetime(2025, 7, 1, tzinfo=UTC),
        honours=[held],
    )

    assert (await deliver(bus, arrived))[0] is Outcome.handled
    await deliver(bus, arrived)  # the same hand-over in a second message

    [entry] = await honours(app)
    assert (entry.honour_id, entry.member_id, entry.home_org) == ("h-1", MEMBER, "hzsteel-casting")
    assert (entry.scheme_kind, entry.year, entry.ce_id) == ("pioneer_worker", 2024, held.ce_id)
    async with app.state.runtime.db.reading() as session:
        assert await honours_repository.titles_held(session, MEMBER) == {"pioneer_worker"}
