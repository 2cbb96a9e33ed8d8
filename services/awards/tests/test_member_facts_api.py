"""GET /members/{member_id}/facts: the member, or a cadre of the facts' home org; nobody else."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

MEMBER = "5b6f0b8e-0a7e-4c61-b0f1-3c3b1e1d0a01"
OTHER = "5b6f0b8e-0a7e-4c61-b0f1-3c3b1e1d0a02"


def path(member_id: str = MEMBER) -> str:
    return f"/members/{member_id}/facts"


async def test_member_sees_own_facts_with_summary(client, bus, completed, auth):
    await bus.publish(completed(MEMBER, hours=8))
    await bus.publish(completed(MEMBER, hours=4.5))
    await bus.publish(completed(OTHER, hours=100))

    response = await client.get(
        path(), headers=auth(org="hzsteel-rolling", roles=["member"], member_id=MEMBER)
    )

    assert response.status_code == 200
    body = response.json()
    assert {f["member_id"] for f in body["items"]} == {MEMBER}
    assert len(body["items"]) == 2
    assert body["summary"] == {
        "total_hours": 12.5,
        "by_kind": {"completed": {"count": 2, "hours": 12.5}},
    }
    assert body["next_cursor"] is None


async def test_fact_ids_are_the_source_events_ce_ids(client, bus, confirmed, auth):
    _, envelope = await bus.publish(confirmed(MEMBER))

    body = (
        await client.get(
            path(), headers=auth(org="hzsteel-rolling", roles=["member"], member_id=MEMBER)
        )
    ).json()

    assert [f["fact_id"] for f in body["items"]] == [envelope.id]
    assert body["items"][0]["source_type"] == "bigschool.enrollment.confirmed.v1"


async def test_member_without_facts_gets_an_empty_page(client, bus, auth):
    response = await client.get(
        path(), headers=auth(org="hzsteel-rolling", roles=["member"], member_id=MEMBER)
    )

    assert response.status_code == 200
    assert response.json()["items"] == []
    assert response.json()["summary"] == {"total_hours": 0, "by_kind": {}}


async def test_another_member_gets_404(client, bus, confirmed, auth):
    await bus.publish(confirmed(MEMBER))

    response = await client.get(
        path(), headers=auth(org="hzsteel-rolling", roles=["member"], member_id=OTHER)
    )

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_cadre_of_the_home_org_sees_the_members_facts(client, bus, confirmed, auth):
    await bus.publish(confirmed(MEMBER, "hzsteel-rolling"))

    for roles in (["cadre"], ["admin"]):
        response = await client.get(path(), headers=auth(org="hzsteel-rolling", roles=roles))
        assert response.status_code == 200
        assert len(response.json()["items"]) == 1


async def test_cadre_of_another_org_gets_404_even_of_a_superior_level(client, bus, confirmed, auth):
    await bus.publish(confirmed(MEMBER, "hzsteel-rolling"))

    for org in ("hzsteel-casting", "hzsteel", "zj"):
        response = await client.get(path(), headers=auth(org=org, roles=["cadre"]))
        assert response.status_code == 404, org


async def test_cadre_sees_only_facts_recorded_at_their_org(client, bus, completed, auth):
    # The member moved from casting to rolling: each org's cadres see their own period only.
    await bus.publish(completed(MEMBER, "hzsteel-casting", hours=3))
    await bus.publish(completed(MEMBER, "hzsteel-rolling", hours=5))

    body = (await client.get(path(), headers=auth(org="hzsteel-rolling", roles=["cadre"]))).json()

    assert [f["home_org"] for f in body["items"]] == ["hzsteel-rolling"]
    assert body["summary"]["total_hours"] == 5


async def test_reviewer_or_plain_member_of_the_org_gets_404(client, bus, confirmed, auth):
    await bus.publish(confirmed(MEMBER, "hzsteel-rolling"))

    for roles in (["reviewer"], ["member"]):
        response = await client.get(path(), headers=auth(org="hzsteel-rolling", roles=roles))
        assert response.status_code == 404, roles


async def test_pages_follow_the_cursor_newest_first_and_summary_covers_all(
    client, bus, confirmed, auth
):
    start = datetime(2025, 3, 1, tzinfo=UTC)
    for day in range(5):
        await bus.publish(confirmed(MEMBER, hours=1, decided_at=start + timedelta(days=day)))
    headers = auth(org="hzsteel-rolling", roles=["member"], member_id=MEMBER)

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (await client.get(path(), headers=headers, params=params)).json()
        assert body["summary"]["by_kind"]["enrollment_confirmed"]["count"] == 5
        seen += [f["occurred_at"] for f in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == 5
    assert seen == sorted(seen, reverse=True)


async def test_page_size_is_at_most_200(client, bus, auth):
    headers = auth(org="hzsteel-rolling", roles=["member"], member_id=MEMBER)

    response = await client.get(path(), headers=headers, params={"limit": 201})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.limit"


async def test_a_forged_cursor_is_a_422_naming_the_field(client, bus, auth):
    headers = auth(org="hzsteel-rolling", roles=["member"], member_id=MEMBER)

    response = await client.get(path(), headers=headers, params={"cursor": "not-ours"})

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "cursor", "reason": "not a cursor this API gave out"}
    ]


@pytest.mark.parametrize(
    "cursor",
    # Deep enough for json.loads to raise RecursionError; short enough for httpx's URL limit.
    [base64.urlsafe_b64encode(b"[" * 40_000).decode(), "A" * 513],
    ids=["deeply-nested-json", "too-long"],
)
async def test_a_cursor_of_nested_json_or_over_the_length_limit_is_a_422_naming_the_field(
    client, bus, auth, cursor
):
    headers = auth(org="hzsteel-rolling", roles=["member"], member_id=MEMBER)

    response = await client.get(path(), headers=headers, params={"cursor": cursor})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["cursor"]
