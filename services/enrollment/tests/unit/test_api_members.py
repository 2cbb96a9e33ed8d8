"""POST /members: a grassroots cadre registers members; contact data stays on this node."""

from __future__ import annotations

from typing import Any

import pytest

from shared.contracts import topics

PROBLEM = "application/problem+json"
EMAIL = "wang.xiaoming@hzsteel.example"


def _member(home_org: str = "hzsteel-rolling", **overrides: Any) -> dict[str, Any]:
    body = {"home_org": home_org, "name": "Wang Xiaoming", "email": EMAIL, "phone": "+86 571 1234"}
    body.update(overrides)
    return body


async def test_a_cadre_of_the_grassroots_org_registers_a_member(node, token) -> None:
    response = await node.client.post(
        "/members", json=_member(), headers=token("hzsteel-rolling", "cadre")
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["home_org"] == "hzsteel-rolling"
    assert body["email"] == EMAIL
    assert len(body["member_id"]) == 36


async def test_member_registered_goes_to_the_node_local_members_topic(node, token, outbox) -> None:
    response = await node.client.post(
        "/members", json=_member(), headers=token("hzsteel-rolling", "cadre")
    )

    [row] = await outbox(node.db)
    assert row.topic == topics.members("zj") == "bigschool.node.zj.members.v1"
    assert row.type == "bigschool.member.registered.v1"
    assert row.key == row.payload["member_id"] == response.json()["member_id"]
    assert row.payload["email"] == EMAIL


async def test_no_outbox_row_on_another_topic_carries_the_members_email(
    node, token, outbox, programme_body
) -> None:
    headers = token("hzsteel-rolling", "cadre")
    await node.client.post("/members", json=_member(), headers=headers)
    # more traffic through the outbox, on a federation topic
    await node.client.post("/programmes", json=programme_body(), headers=token("hzsteel", "cadre"))

    rows = await outbox(node.db)
    elsewhere = [r for r in rows if r.topic != topics.members("zj")]
    assert elsewhere, "the check below must look at some rows"
    for row in elsewhere:
        assert EMAIL not in row.raw_payload + row.raw_headers


async def test_a_cadre_of_another_org_may_not_register_the_member(node, token, outbox) -> None:
    response = await node.client.post(
        "/members", json=_member(), headers=token("hzsteel-casting", "cadre")
    )

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert await outbox(node.db) == []


async def test_a_member_may_not_register_members_of_their_own_org(node, token, outbox) -> None:
    response = await node.client.post(
        "/members", json=_member(), headers=token("hzsteel-rolling", "member")
    )

    assert response.status_code == 403
    assert await outbox(node.db) == []


@pytest.mark.parametrize(
    "bad",
    ["wang.secretmail.example", "wang@secretmail.local", "wang@secret mail.com"],
    ids=["no-at-sign", "reserved-domain", "space-in-domain"],
)
async def test_an_invalid_email_names_the_field_without_echoing_the_value(
    node, token, outbox, bad: str
) -> None:
    response = await node.client.post(
        "/members", json=_member(email=bad), headers=token("hzsteel-rolling", "cadre")
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == 422
    assert [e["field"] for e in body["errors"]] == ["email"]
    assert body["errors"][0]["reason"]
    assert "secret" not in response.text
    assert await outbox(node.db) == []


async def test_members_join_a_grassroots_org_only(node, token, outbox) -> None:
    response = await node.client.post(
        "/members", json=_member(home_org="hzsteel"), headers=token("hzsteel", "cadre")
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "home_org"
    assert await outbox(node.db) == []


async def test_a_member_of_an_org_hosted_by_another_node_is_not_registered_here(
    node, token, outbox
) -> None:
    response = await node.client.post(
        "/members", json=_member(home_org="js-nj"), headers=token("js-nj", "cadre")
    )

    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "home_org"
    assert await outbox(node.db) == []


async def test_a_member_reads_their_own_record_but_not_anothers(node, token) -> None:
    cadre = token("hzsteel-rolling", "cadre")
    first = (await node.client.post("/members", json=_member(), headers=cadre)).json()
    second = (await node.client.post("/members", json=_member(name="Li"), headers=cadre)).json()
    as_first = token("hzsteel-rolling", "member", member_id=first["member_id"])

    own = await node.client.get(f"/members/{first['member_id']}", headers=as_first)
    other = await node.client.get(f"/members/{second['member_id']}", headers=as_first)

    assert own.status_code == 200
    assert own.json()["name"] == "Wang Xiaoming"
    assert other.status_code == 404
    assert "Li" not in other.text
