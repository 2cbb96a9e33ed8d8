"""POST /orgs: a node hosts its root org and that org's subtree, and nothing else."""

from __future__ import annotations

from typing import Any

from shared.contracts import topics

PROBLEM = "application/problem+json"


def _org(org_id: str, parent_id: str | None, level: str) -> dict[str, Any]:
    return {"org_id": org_id, "name": org_id.upper(), "parent_id": parent_id, "level": level}


async def test_an_admin_registers_the_nodes_root_org(replica, token, outbox) -> None:
    response = await replica.client.post(
        "/orgs", json=_org("zj", "cn", "superior"), headers=token("zj", "admin")
    )

    assert response.status_code == 201, response.text
    assert response.json() == {
        "org_id": "zj",
        "name": "ZJ",
        "parent_id": "cn",
        "level": "superior",
        "hosted_by": "zj",
    }
    [row] = await outbox(replica.db)
    assert (row.topic, row.key, row.type) == (
        topics.FEDERATION,
        "zj",
        "bigschool.org.registered.v1",
    )
    assert row.payload["hosted_by"] == "zj"


async def test_a_child_inside_the_subtree_is_hosted_and_announced_on_the_federation_topic(
    node, token, outbox
) -> None:
    response = await node.client.post(
        "/orgs",
        json=_org("hzsteel-welding", "hzsteel", "grassroots"),
        headers=token("zj", "admin"),
    )

    assert response.status_code == 201, response.text
    assert response.json()["hosted_by"] == "zj"
    [row] = await outbox(node.db)
    assert row.topic == topics.FEDERATION == "bigschool.federation.v1"
    assert row.key == row.headers["ce_subject"] == "hzsteel-welding"
    assert row.type == "bigschool.org.registered.v1"
    assert row.payload["parent_id"] == "hzsteel"
    assert (await node.ctx.orgs.get("hzsteel-welding")).hosted_by == "zj"


async def test_an_org_outside_the_nodes_subtree_is_unprocessable(node, token, outbox) -> None:
    response = await node.client.post(
        "/orgs", json=_org("js-sz", "js", "superior"), headers=token("zj", "admin")
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == "parent_id"
    assert await outbox(node.db) == []
    assert await node.ctx.orgs.get("js-sz") is None


async def test_an_unknown_parent_is_not_found(node, token, outbox) -> None:
    response = await node.client.post(
        "/orgs", json=_org("ghost-child", "ghost", "grassroots"), headers=token("zj", "admin")
    )

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"] == [
        {"field": "parent_id", "reason": "parent org ghost is not known here"}
    ]
    assert await outbox(node.db) == []


async def test_a_grassroots_org_cannot_sit_under_a_grassroots_org(node, token, outbox) -> None:
    response = await node.client.post(
        "/orgs",
        json=_org("rolling-team-1", "hzsteel-rolling", "grassroots"),
        headers=token("zj", "admin"),
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "parent_id"
    assert "grassroots" in response.json()["detail"]
    assert await outbox(node.db) == []


async def test_a_cadre_who_is_not_an_admin_may_not_register_orgs(node, token, outbox) -> None:
    response = await node.client.post(
        "/orgs",
        json=_org("hzsteel-welding", "hzsteel", "grassroots"),
        headers=token("zj", "cadre", "member"),
    )

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert await outbox(node.db) == []


async def test_an_admin_of_another_nodes_org_may_not_register_orgs_here(
    node, token, outbox
) -> None:
    response = await node.client.post(
        "/orgs", json=_org("hzsteel-welding", "hzsteel", "grassroots"), headers=token("js", "admin")
    )

    assert response.status_code == 403
    assert await outbox(node.db) == []


async def test_an_org_id_that_is_not_a_slug_names_the_field(node, token) -> None:
    response = await node.client.post(
        "/orgs", json=_org("Bad Slug!", "hzsteel", "grassroots"), headers=token("zj", "admin")
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["org_id"]
