"""GET /members/{id}/honours, /members/{id}/record and /orgs/{id}/honours: the member
themself, and cadres of the member's home org or of an org above it; everyone else gets 404."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.contracts import topics
from shared.contracts.events import (
    HonourGranted,
    HonourKind,
    MemberRegistered,
    QualityArea,
    SchemeKind,
)
from shared.messaging.consumer import Outcome

MEMBER = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c01"
OTHER = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c02"
CASTER = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c03"
NODE = "hzsteel"
START = datetime(2025, 3, 1, tzinfo=UTC)


async def join(bus, member_id: str, home_org: str = "hzsteel-rolling") -> None:
    event = MemberRegistered(member_id=member_id, home_org=home_org, name="王芳")
    record, _ = bus.record(event, topics.members(NODE))
    assert await bus.deliver("members", record) is Outcome.handled


async def grant(
    bus,
    member_id: str = MEMBER,
    *,
    home_org: str = "hzsteel-rolling",
    kind: HonourKind = HonourKind.award,
    scheme_kind: SchemeKind | None = SchemeKind.model_worker,
    amount_fen: int = 100_000,
    year: int | None = 2025,
    granted_at: datetime = START,
    members: list[str] | None = None,
) -> HonourGranted:
    event = HonourGranted(
        honour_id=str(uuid.uuid4()),
        kind=kind,
        source_id=str(uuid.uuid4()),
        scheme_kind=scheme_kind,
        title="Model worker",
        granting_org="hzsteel",
        home_org=home_org,
        member_ids=members or [member_id],
        amount_fen=amount_fen,
        year=year,
        granted_at=granted_at,
    )
    record, _ = bus.record(event, topics.AWARDS)
    assert await bus.deliver("honours", record) is Outcome.handled
    return event


@pytest.fixture
async def recorded(bus) -> None:
    """MEMBER (rolling) holds a title; OTHER (rolling) and CASTER (casting) are members too."""
    for member_id, org in ((MEMBER, "hzsteel-rolling"), (OTHER, "hzsteel-rolling")):
        await join(bus, member_id, org)
    await join(bus, CASTER, "hzsteel-casting")
    await grant(bus)


MEMBER_PATHS = [f"/members/{MEMBER}/honours", f"/members/{MEMBER}/record"]


@pytest.mark.parametrize("path", MEMBER_PATHS)
@pytest.mark.parametrize(
    ("org", "roles", "member_id", "status"),
    [
        ("hzsteel-rolling", ["member"], MEMBER, 200),  # the member themself
        ("hzsteel-rolling", ["member"], OTHER, 404),  # another member of the same org
        ("hzsteel-rolling", ["cadre"], None, 200),  # a cadre of the home org
        ("hzsteel-rolling", ["admin"], None, 200),
        ("hzsteel", ["cadre"], None, 200),  # a cadre of an org above it
        ("zj", ["cadre"], None, 200),
        ("hzsteel-casting", ["cadre"], None, 404),  # a sibling org's cadre
        ("otherco", ["cadre"], None, 404),  # another branch
        ("hzsteel-rolling", ["reviewer"], None, 404),  # no cadre role
    ],
)
async def test_who_sees_a_members_honours_and_record(
    client, recorded, auth, path, org, roles, member_id, status
) -> None:
    response = await client.get(path, headers=auth(org=org, roles=roles, member_id=member_id))

    assert response.status_code == status
    if status == 404:
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("org", "roles", "member_id", "status"),
    [
        ("hzsteel-rolling", ["cadre"], None, 200),  # a cadre of the org
        ("hzsteel", ["cadre"], None, 200),  # of an org above it
        ("zj", ["admin"], None, 200),
        ("hzsteel-casting", ["cadre"], None, 404),  # a sibling
        ("otherco", ["cadre"], None, 404),  # another branch
        ("hzsteel-rolling", ["member"], MEMBER, 404),  # a member of the org
        ("hzsteel-rolling", ["reviewer"], None, 404),
    ],
)
async def test_who_sees_an_orgs_honours(client, recorded, auth, org, roles, member_id, status):
    response = await client.get(
        "/orgs/hzsteel-rolling/honours", headers=auth(org=org, roles=roles, member_id=member_id)
    )

    assert response.status_code == status


async def test_an_unknown_org_is_404(client, recorded, auth) -> None:
    response = await client.get(
        "/orgs/no-such-org/honours", headers=auth(org="zj", roles=["cadre"])
    )

    assert response.status_code == 404


async def test_a_cadre_cannot_read_a_member_not_hosted_here(client, recorded, auth) -> None:
    stranger = str(uuid.uuid4())

    response = await client.get(
        f"/members/{stranger}/honours", headers=auth(org="zj", roles=["cadre"])
    )

    assert response.status_code == 404


async def test_a_members_honours_are_paged_newest_first_with_totals_of_all(
    client, bus, auth
) -> None:
    for day in range(5):
        await grant(
            bus,
            kind=HonourKind.reward,
            amount_fen=1_000 * (day + 1),
            granted_at=START + timedelta(days=day),
        )
    await grant(bus, OTHER, amount_fen=999_999)
    headers = auth(org="hzsteel-rolling", roles=["member"], member_id=MEMBER)

    seen: list[int] = []
    cursor: str | None = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (
            await client.get(f"/members/{MEMBER}/honours", headers=headers, params=params)
        ).json()
        assert body["totals"] == {"count": 5, "amount_fen": 15_000}
        seen += [item["amount_fen"] for item in body["items"]]
        assert {item["member_id"] for item in body["items"]} == {MEMBER}
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert seen == [5_000, 4_000, 3_000, 2_000, 1_000]


async def test_an_orgs_honours_cover_its_subtree_filtered_by_year_and_kind(
    client, recorded, bus, auth
) -> None:
    await grant(bus, CASTER, home_org="hzsteel-casting", kind=HonourKind.reward, amount_fen=500)
    await grant(bus, CASTER, home_org="hzsteel-casting", year=2024, amount_fen=7)
    team = [MEMBER, OTHER]
    await grant(bus, members=team, kind=HonourKind.reward, amount_fen=2_000, year=2025)
    headers = auth(org="hzsteel", roles=["cadre"])

    every = (await client.get("/orgs/hzsteel/honours", headers=headers)).json()
    rewards = (
        await client.get("/orgs/hzsteel/honours", headers=headers, params={"kind": "reward"})
    ).json()
    of_2024 = (
        await client.get("/orgs/hzsteel/honours", headers=headers, params={"year": 2024})
    ).json()
    rolling = (
        await client.get(
            "/orgs/hzsteel-rolling/honours", headers=auth(org="hzsteel-rolling", roles=["cadre"])
        )
    ).json()

    assert every["totals"] == {"count": 5, "amount_fen": 100_000 + 500 + 7 + 2_000}
    # The team's reward is on both members' records, and was paid once.
    assert rewards["totals"] == {"count": 3, "amount_fen": 2_500}
    assert [i["member_id"] for i in of_2024["items"]] == [CASTER]
    assert {i["home_org"] for i in rolling["items"]} == {"hzsteel-rolling"}
    assert rolling["totals"]["count"] == 3


async def test_an_unknown_kind_filter_is_a_422_naming_the_field(client, recorded, auth) -> None:
    response = await client.get(
        "/orgs/hzsteel/honours",
        headers=auth(org="hzsteel", roles=["cadre"]),
        params={"kind": "knighthood"},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.kind"


async def test_the_record_shows_what_a_nomination_would_be_checked_against(
    client, recorded, bus, completed, confirmed, auth
) -> None:
    await bus.publish(confirmed(MEMBER, hours=40))  # a seat credits no hours
    await bus.publish(completed(MEMBER, hours=40, quality_area=QualityArea.technical_skills))
    await bus.publish(completed(MEMBER, hours=12.5, rank=2))
    await bus.publish(completed(MEMBER, hours=6, rank=5))
    await bus.publish(completed(MEMBER, hours=99, completed_at=datetime(2024, 6, 1, tzinfo=UTC)))
    headers = auth(org="hzsteel", roles=["cadre"])

    body = (await client.get(f"/members/{MEMBER}/record", headers=headers)).json()
    earlier = (
        await client.get(f"/members/{MEMBER}/record", headers=headers, params={"year": 2024})
    ).json()

    assert body == {
        "member_id": MEMBER,
        "year": 2025,  # this year by the injected clock
        "training_hours": 58.5,
        "hours_by_quality_area": {"safety_health": 18.5, "technical_skills": 40.0},
        "completions": 3,
        "best_rank": 2,
        "titles_held": ["model_worker"],
    }
    assert (earlier["training_hours"], earlier["completions"], earlier["best_rank"]) == (
        99,
        1,
        None,
    )
