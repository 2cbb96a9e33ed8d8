"""GET /members?org=: an org's roster for its cadres, page by page in the order members were
registered; nobody else lists it."""

from __future__ import annotations

from typing import Any

ORG = "hzsteel-rolling"


async def _register(node, token, name: str, org: str = ORG) -> str:
    response = await node.client.post(
        "/members", json={"home_org": org, "name": name}, headers=token(org, "cadre")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["member_id"])


async def test_the_roster_pages_follow_the_cursor_to_every_member_once(node, token) -> None:
    registered = [await _register(node, token, f"Worker {i}") for i in range(5)]
    await _register(node, token, "Elsewhere", org="hzsteel-casting")
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        response = await node.client.get("/members", params=params, headers=token(ORG, "cadre"))
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [m["member_id"] for m in body["items"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert seen == registered  # registration order, each once, none of another org


async def test_a_member_or_another_orgs_cadre_may_not_list_the_roster(node, token) -> None:
    await _register(node, token, "Worker")
    as_member = await node.client.get("/members", headers=token(ORG, "member"))
    other_cadre = await node.client.get(
        "/members", params={"org": ORG}, headers=token("hzsteel-casting", "cadre")
    )
    assert as_member.status_code == 403
    assert other_cadre.status_code == 403


async def test_a_forged_cursor_is_unprocessable(node, token) -> None:
    response = await node.client.get(
        "/members", params={"cursor": "bm90IGEgY3Vyc29y"}, headers=token(ORG, "cadre")
    )
    assert response.status_code == 422
