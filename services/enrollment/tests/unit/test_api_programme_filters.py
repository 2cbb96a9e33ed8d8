"""GET /programmes narrowed on the server: quality area, kind, owner, start, title words —
keyset pages kept under every filter."""

from __future__ import annotations

from typing import Any


async def _publish(node, token, programme_body, **overrides: Any) -> str:
    response = await node.client.post(
        "/programmes", json=programme_body(**overrides), headers=token("hzsteel", "cadre")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["programme_id"])


async def _titles(node, token, **params: Any) -> list[str]:
    response = await node.client.get(
        "/programmes", params=params, headers=token("hzsteel-rolling", "member")
    )
    assert response.status_code == 200, response.text
    return sorted(p["title"] for p in response.json()["items"])


async def test_each_filter_narrows_the_list(node, token, programme_body) -> None:
    await _publish(node, token, programme_body, title="Safe crane operation")
    await _publish(
        node, token, programme_body, title="Ethics lecture", kind="lecture",
        quality_area="ethics", starts_at="2030-07-01T01:00:00+00:00",
        ends_at="2030-07-01T03:00:00+00:00",
    )  # fmt: skip
    assert await _titles(node, token, quality_area="ethics") == ["Ethics lecture"]
    assert await _titles(node, token, kind="training_course") == ["Safe crane operation"]
    assert await _titles(node, token, starts_from="2030-06-01T00:00:00+08:00") == ["Ethics lecture"]
    assert await _titles(node, token, q="CRANE safe") == ["Safe crane operation"]
    assert await _titles(node, token, q="crane lecture") == []
    assert await _titles(node, token, owner_org="hzsteel") == [
        "Ethics lecture", "Safe crane operation"
    ]  # fmt: skip


async def test_a_percent_sign_in_the_search_is_a_plain_character(
    node, token, programme_body
) -> None:
    await _publish(node, token, programme_body, title="Safe crane operation")
    assert await _titles(node, token, q="%") == []


async def test_filtered_pages_follow_the_cursor_to_every_match_once(
    node, token, programme_body
) -> None:
    wanted = {await _publish(node, token, programme_body, title=f"Crane {i}") for i in range(5)}
    for i in range(3):
        await _publish(node, token, programme_body, title=f"Welding {i}")
    seen: list[str] = []
    params: dict[str, Any] = {"q": "crane", "limit": 2}
    while True:
        body = (
            await node.client.get(
                "/programmes", params=params, headers=token("hzsteel-rolling", "member")
            )
        ).json()
        seen += [p["programme_id"] for p in body["items"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert sorted(seen) == sorted(wanted)


async def test_an_unknown_filter_value_is_unprocessable_naming_it(node, token) -> None:
    response = await node.client.get(
        "/programmes",
        params={"quality_area": "cooking", "starts_from": "2030-06-01T00:00:00"},
        headers=token("hzsteel-rolling", "member"),
    )
    assert response.status_code == 422
    named = {e["field"] for e in response.json()["errors"]}
    assert {"quality_area", "starts_from"} <= {n.split(".")[-1] for n in named}
