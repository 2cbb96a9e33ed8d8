"""POST /orgs and POST /orgs/{id}/move: an org is registered or changed only by an admin of
its parent, at the node hosting the parent; a move only by an admin above both parents."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from enrollment.app import MIGRATIONS, create_app
from shared.contracts import topics
from shared.orgs.signing import SIGNATURE_HEADER, FederationKeys
from shared.testing import migrated

PROBLEM = "application/problem+json"


def _org(org_id: str, parent_id: str | None, level: str, **extra: Any) -> dict[str, Any]:
    return {
        "org_id": org_id,
        "name": org_id.upper(),
        "parent_id": parent_id,
        "level": level,
        **extra,
    }


async def test_the_parents_admin_registers_a_child_announced_signed_on_the_federation_topic(
    node, token, outbox, federation_keys
) -> None:
    response = await node.client.post(
        "/orgs",
        json=_org("hzsteel-welding", "hzsteel", "grassroots"),
        headers=token("hzsteel", "admin"),
    )

    assert response.status_code == 201, response.text
    assert response.json() == {
        "org_id": "hzsteel-welding",
        "name": "HZSTEEL-WELDING",
        "parent_id": "hzsteel",
        "level": "grassroots",
        "hosted_by": "zj",
    }
    [row] = await outbox(node.db)
    assert row.topic == topics.FEDERATION == "bigschool.federation.v1"
    assert row.key == row.headers["ce_subject"] == "hzsteel-welding"
    assert row.type == "bigschool.org.registered.v1"
    keys = FederationKeys.from_file(federation_keys.jwks_path)
    keys.verify(row.headers, row.raw_payload.encode(), "zj")  # raises unless zj signed it
    assert SIGNATURE_HEADER in row.headers
    assert (await node.ctx.orgs.get("hzsteel-welding")).hosted_by == "zj"


async def test_the_parents_admin_renames_a_child(node, token) -> None:
    response = await node.client.post(
        "/orgs",
        json={**_org("hzsteel-rolling", "hzsteel", "grassroots"), "name": "Rolling mill union"},
        headers=token("hzsteel", "admin"),
    )

    assert response.status_code == 201, response.text
    assert (await node.ctx.orgs.get("hzsteel-rolling")).name == "Rolling mill union"


@pytest.mark.parametrize(
    ("body", "admin_of"),
    [
        (_org("hzsteel", "zj-hz", "enterprise"), "hzsteel-rolling"),  # rename the enterprise
        (_org("hzsteel", "zj", "enterprise"), "hzsteel-rolling"),  # detach it from zj-hz
        (_org("zj-hz", "zj", "superior"), "hzsteel-rolling"),  # rename the city federation
        (_org("hzsteel-welding", "hzsteel", "grassroots"), "zj"),  # an admin above, not parent
        (_org("hzsteel-welding", "hzsteel", "grassroots"), "hzsteel-casting"),  # a sibling
    ],
    ids=["rename-enterprise", "detach", "rename-city", "grandparent", "sibling"],
)
async def test_an_admin_who_is_not_the_parents_may_not_register_or_change_an_org(
    node, token, outbox, body, admin_of
) -> None:
    before = await node.ctx.orgs.get(body["org_id"])

    response = await node.client.post("/orgs", json=body, headers=token(admin_of, "admin"))

    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == PROBLEM
    assert await outbox(node.db) == []
    assert await node.ctx.orgs.get(body["org_id"]) == before


async def test_changing_an_orgs_parent_through_registration_is_a_conflict(
    node, token, outbox
) -> None:
    response = await node.client.post(
        "/orgs", json=_org("hzsteel", "zj", "enterprise"), headers=token("zj", "admin")
    )

    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "parent_id"
    assert "/move" in response.json()["detail"]
    assert await outbox(node.db) == []


async def test_an_org_under_a_parent_hosted_by_another_node_is_unprocessable(
    node, token, outbox
) -> None:
    response = await node.client.post(
        "/orgs", json=_org("js-sz", "js", "superior"), headers=token("js", "admin")
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "parent_id"
    assert "node js" in response.json()["detail"]
    assert await outbox(node.db) == []
    assert await node.ctx.orgs.get("js-sz") is None


async def test_the_parents_admin_admits_a_new_node_by_registering_its_root(
    node, token, outbox
) -> None:
    body = _org("hz-xiaoshan", "zj-hz", "superior", hosted_by="xs")

    response = await node.client.post("/orgs", json=body, headers=token("zj-hz", "admin"))

    assert response.status_code == 201, response.text
    assert response.json()["hosted_by"] == "xs"
    [row] = await outbox(node.db)
    assert row.payload["hosted_by"] == "xs" and row.headers["ce_source"].startswith("bigschool/zj/")
    second = await node.client.post(
        "/orgs",
        json=_org("hz-binjiang", "zj-hz", "superior", hosted_by="xs"),
        headers=token("zj-hz", "admin"),
    )
    assert second.status_code == 409
    assert second.json()["errors"][0]["field"] == "hosted_by"


async def test_an_orgs_host_does_not_change_by_registration(node, token, outbox) -> None:
    response = await node.client.post(
        "/orgs",
        json=_org("hzsteel-rolling", "hzsteel", "grassroots", hosted_by="elsewhere"),
        headers=token("hzsteel", "admin"),
    )

    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "hosted_by"
    assert await outbox(node.db) == []


async def test_an_unknown_parent_is_not_found(node, token, outbox) -> None:
    response = await node.client.post(
        "/orgs", json=_org("ghost-child", "ghost", "grassroots"), headers=token("ghost", "admin")
    )

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"] == [
        {"field": "parent_id", "reason": "org ghost is not known here"}
    ]
    assert await outbox(node.db) == []


async def test_a_grassroots_org_cannot_sit_under_a_grassroots_org(node, token, outbox) -> None:
    response = await node.client.post(
        "/orgs",
        json=_org("rolling-team-1", "hzsteel-rolling", "grassroots"),
        headers=token("hzsteel-rolling", "admin"),
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "level"
    assert "grassroots" in response.json()["detail"]
    assert await outbox(node.db) == []


async def test_a_cadre_who_is_not_an_admin_may_not_register_orgs(node, token, outbox) -> None:
    response = await node.client.post(
        "/orgs",
        json=_org("hzsteel-welding", "hzsteel", "grassroots"),
        headers=token("hzsteel", "cadre", "member"),
    )

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert await outbox(node.db) == []


async def test_an_org_id_that_is_not_a_slug_names_the_field(node, token) -> None:
    response = await node.client.post(
        "/orgs", json=_org("Bad Slug!", "hzsteel", "grassroots"), headers=token("hzsteel", "admin")
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["org_id"]


# -- moving an org --------------------------------------------------------------------------


async def test_an_admin_above_both_parents_moves_an_org(node, token, outbox) -> None:
    response = await node.client.post(
        "/orgs/hzsteel-casting/move", json={"parent_id": "zj-hz"}, headers=token("zj-hz", "admin")
    )

    assert response.status_code == 200, response.text
    assert response.json()["parent_id"] == "zj-hz"
    [row] = await outbox(node.db)
    assert (row.key, row.payload["parent_id"]) == ("hzsteel-casting", "zj-hz")
    assert (await node.ctx.orgs.get("hzsteel-casting")).parent_id == "zj-hz"


async def test_an_admin_of_only_one_parent_may_not_move_an_org(node, token, outbox) -> None:
    response = await node.client.post(
        "/orgs/hzsteel-casting/move", json={"parent_id": "zj-hz"}, headers=token("hzsteel", "admin")
    )

    assert response.status_code == 403
    assert await outbox(node.db) == []


async def test_a_move_that_would_make_a_cycle_is_unprocessable(node, token, outbox) -> None:
    response = await node.client.post(
        "/orgs/zj-hz/move", json={"parent_id": "hzsteel"}, headers=token("zj", "admin")
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "parent_id"
    assert "cycle" in response.json()["detail"]
    assert await outbox(node.db) == []
    assert (await node.ctx.orgs.get("zj-hz")).parent_id == "zj"


async def test_a_move_under_another_nodes_org_is_unprocessable(node, token, outbox) -> None:
    response = await node.client.post(
        "/orgs/hzsteel/move", json={"parent_id": "js"}, headers=token("cn", "admin")
    )

    assert response.status_code == 422
    assert await outbox(node.db) == []


# -- the federation's top org ---------------------------------------------------------------


@pytest.fixture
async def top_node(settings, federation_keys, tmp_path):
    """An empty node `cn` whose root is the federation's top org."""

    url = f"sqlite+aiosqlite:///{tmp_path / 'cn.db'}"
    await migrated(MIGRATIONS, url)
    here = settings.model_copy(
        update={
            "node_id": "cn",
            "root_org": "cn",
            "database_url": url,
            "node_key_path": federation_keys.key_path("cn"),
        }
    )
    app = create_app(here)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cn") as c:
        yield c
    await app.state.runtime.db.dispose()


async def test_the_top_org_is_registered_by_its_own_admin_once(top_node, token) -> None:
    first = await top_node.post(
        "/orgs", json=_org("cn", None, "superior"), headers=token("cn", "admin", node="cn")
    )
    again = await top_node.post(
        "/orgs", json=_org("cn", None, "superior"), headers=token("cn", "admin", node="cn")
    )

    assert first.status_code == 201, first.text
    assert first.json()["hosted_by"] == "cn"
    assert again.status_code == 409


async def test_only_the_nodes_root_can_be_the_top_org(top_node, token) -> None:
    response = await top_node.post(
        "/orgs", json=_org("rival", None, "superior"), headers=token("rival", "admin", node="cn")
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "parent_id"
