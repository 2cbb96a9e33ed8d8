"""POST and GET /enrollments: the home node records the request and addresses it to the
programme owner's inbox, carrying the pseudonymous member id only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from enrollment.service.programmes import copy_programme
from shared.contracts import topics
from shared.contracts.events import ProgrammePublished, QualityArea

PROBLEM = "application/problem+json"
NAME, EMAIL, PHONE = "Wang Xiaoming", "wang.xiaoming@hzsteel.example", "+86 571 5550 1234"
REMOTE = "7d1c2a7e-0000-4000-8000-0000000000cn"  # a programme the national node owns


@pytest.fixture
async def federation(node):
    """Node zj, plus a copy of a programme owned by node cn and open to all of zj."""
    published = ProgrammePublished(
        programme_id=REMOTE,
        owner_org="cn",
        owner_node="cn",
        title="National ethics lecture",
        kind="lecture",
        quality_area=QualityArea.ethics,
        audience=["zj"],
        capacity=100,
        hours=2,
        starts_at=datetime(2030, 6, 1, tzinfo=UTC),
        ends_at=datetime(2030, 6, 1, 2, tzinfo=UTC),
    )
    async with node.db.transaction() as session:
        await copy_programme(session, node.ctx, published)
    return node


async def _member(service, token, home_org: str = "hzsteel-rolling", name: str = NAME) -> str:
    body = {"home_org": home_org, "name": name, "email": EMAIL, "phone": PHONE}
    response = await service.client.post("/members", json=body, headers=token(home_org, "cadre"))
    assert response.status_code == 201, response.text
    return response.json()["member_id"]


async def test_a_member_asks_for_a_seat_and_gets_202_with_a_location(federation, token) -> None:
    member_id = await _member(federation, token)

    response = await federation.client.post(
        "/enrollments",
        json={"programme_id": REMOTE},
        headers=token("hzsteel-rolling", "member", member_id=member_id),
    )

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "requested"
    assert body["member_id"] == member_id
    assert response.headers["location"] == f"/enrollments/{body['id']}"


async def test_the_request_is_addressed_to_the_owner_nodes_inbox_keyed_by_programme(
    federation, token, outbox
) -> None:
    member_id = await _member(federation, token)
    response = await federation.client.post(
        "/enrollments",
        json={"programme_id": REMOTE},
        headers=token("hzsteel-rolling", "member", member_id=member_id),
    )

    [row] = [r for r in await outbox(federation.db) if r.type.startswith("bigschool.enrollment")]
    assert row.type == "bigschool.enrollment.requested.v1"
    assert row.topic == topics.inbox("cn") == "bigschool.node.cn.inbox.v1"
    assert row.key == REMOTE
    assert row.headers["ce_subject"] == response.json()["id"]
    assert row.payload["member_id"] == member_id
    assert row.payload["home_node"] == "zj"


async def test_the_request_carries_the_display_name_but_no_contact_data(
    federation, token, outbox
) -> None:
    member_id = await _member(federation, token)
    await federation.client.post(
        "/enrollments",
        json={"programme_id": REMOTE},
        headers=token("hzsteel-rolling", "member", member_id=member_id),
    )

    [row] = [r for r in await outbox(federation.db) if r.topic == topics.inbox("cn")]
    assert set(row.payload) == {
        "enrollment_id",
        "programme_id",
        "member_id",
        "home_org",
        "home_node",
        "requested_at",
        "display_name",  # for the owner's participant list: this request goes to one node
    }
    assert row.payload["display_name"] == NAME
    for value in (EMAIL, PHONE):
        assert value not in row.raw_payload
        assert value not in row.raw_headers
    assert NAME not in row.raw_headers


async def test_the_location_shows_the_requested_enrollment(federation, token) -> None:
    member_id = await _member(federation, token)
    headers = token("hzsteel-rolling", "member", member_id=member_id)
    created = await federation.client.post(
        "/enrollments", json={"programme_id": REMOTE}, headers=headers
    )

    polled = await federation.client.get(created.headers["location"], headers=headers)

    assert polled.status_code == 200
    assert polled.json()["status"] == "requested"
    assert polled.json()["id"] == created.json()["id"]


async def test_a_member_outside_the_programmes_audience_is_unprocessable(
    federation, token, outbox, programme_body
) -> None:
    published = await federation.client.post(
        "/programmes",
        json=programme_body(audience=["hzsteel-casting"]),
        headers=token("hzsteel", "cadre"),
    )
    member_id = await _member(federation, token)  # of hzsteel-rolling
    before = await outbox(federation.db)

    response = await federation.client.post(
        "/enrollments",
        json={"programme_id": published.json()["programme_id"]},
        headers=token("hzsteel-rolling", "member", member_id=member_id),
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == "programme_id"
    assert await outbox(federation.db) == before


async def test_a_second_request_for_the_same_programme_conflicts(federation, token, outbox) -> None:
    member_id = await _member(federation, token)
    headers = token("hzsteel-rolling", "member", member_id=member_id)
    first = await federation.client.post(
        "/enrollments", json={"programme_id": REMOTE}, headers=headers
    )

    second = await federation.client.post(
        "/enrollments", json={"programme_id": REMOTE}, headers=headers
    )

    assert first.status_code == 202
    assert second.status_code == 409
    assert second.headers["content-type"] == PROBLEM
    requests = [r for r in await outbox(federation.db) if r.topic == topics.inbox("cn")]
    assert len(requests) == 1


async def test_an_unknown_programme_is_not_found(federation, token) -> None:
    member_id = await _member(federation, token)

    response = await federation.client.post(
        "/enrollments",
        json={"programme_id": "no-such-programme"},
        headers=token("hzsteel-rolling", "member", member_id=member_id),
    )

    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "programme_id"


async def test_another_members_enrollment_is_not_found(federation, token) -> None:
    wang = await _member(federation, token)
    li = await _member(federation, token, name="Li Na")
    created = await federation.client.post(
        "/enrollments",
        json={"programme_id": REMOTE},
        headers=token("hzsteel-rolling", "member", member_id=wang),
    )

    as_li = token("hzsteel-rolling", "member", member_id=li)
    response = await federation.client.get(created.headers["location"], headers=as_li)

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert wang not in response.text


async def test_a_cadre_of_another_org_does_not_see_the_enrollment(federation, token) -> None:
    member_id = await _member(federation, token)
    created = await federation.client.post(
        "/enrollments",
        json={"programme_id": REMOTE},
        headers=token("hzsteel-rolling", "member", member_id=member_id),
    )

    response = await federation.client.get(
        created.headers["location"], headers=token("hzsteel-casting", "cadre")
    )

    assert response.status_code == 404


async def test_a_member_cannot_enrol_someone_else(federation, token) -> None:
    wang = await _member(federation, token)
    li = await _member(federation, token, name="Li Na")

    response = await federation.client.post(
        "/enrollments",
        json={"programme_id": REMOTE, "member_id": li},
        headers=token("hzsteel-rolling", "member", member_id=wang),
    )

    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "member_id"


async def test_the_home_orgs_cadre_may_enrol_a_member(federation, token) -> None:
    member_id = await _member(federation, token)

    response = await federation.client.post(
        "/enrollments",
        json={"programme_id": REMOTE, "member_id": member_id},
        headers=token("hzsteel-rolling", "cadre"),
    )

    assert response.status_code == 202
    assert response.json()["member_id"] == member_id
