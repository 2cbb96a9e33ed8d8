"""POST and GET /programmes: publication inside the owner's subtree, and cursor pagination."""

from __future__ import annotations

from shared.contracts import topics

PROBLEM = "application/problem+json"


async def test_a_cadre_publishes_a_programme_for_the_owners_whole_subtree(
    node, token, programme_body
) -> None:
    response = await node.client.post(
        "/programmes", json=programme_body(), headers=token("hzsteel", "cadre")
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["owner_node"] == "zj"
    assert body["audience"] == ["hzsteel"]


async def test_programme_published_goes_to_the_enrollment_topic_keyed_by_programme(
    node, token, outbox, programme_body
) -> None:
    audience = ["hzsteel-rolling", "hzsteel-casting"]
    response = await node.client.post(
        "/programmes",
        json=programme_body(audience=audience),
        headers=token("hzsteel", "cadre"),
    )

    [row] = await outbox(node.db)
    programme_id = response.json()["programme_id"]
    assert row.topic == topics.ENROLLMENT == "bigschool.enrollment.v1"
    assert row.type == "bigschool.programme.published.v1"
    assert row.key == programme_id
    assert row.payload["audience"] == audience
    assert row.headers["bigschool_orgs"] == "hzsteel,hzsteel-rolling,hzsteel-casting"


async def test_an_audience_org_outside_the_owners_subtree_is_named_by_index(
    node, token, outbox, programme_body
) -> None:
    response = await node.client.post(
        "/programmes",
        json=programme_body(audience=["hzsteel-rolling", "js-nj"]),
        headers=token("hzsteel", "cadre"),
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert [e["field"] for e in response.json()["errors"]] == ["audience.1"]
    assert await outbox(node.db) == []


async def test_an_unknown_audience_org_is_unprocessable(node, token, programme_body) -> None:
    response = await node.client.post(
        "/programmes",
        json=programme_body(audience=["ghost"]),
        headers=token("hzsteel", "cadre"),
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "audience.0"


async def test_a_cadre_of_another_org_may_not_publish_for_the_owner(
    node, token, outbox, programme_body
) -> None:
    response = await node.client.post(
        "/programmes", json=programme_body(), headers=token("hzsteel-rolling", "cadre")
    )

    assert response.status_code == 403
    assert await outbox(node.db) == []


async def test_a_programme_that_ends_before_it_starts_is_unprocessable(
    node, token, programme_body
) -> None:
    body = programme_body(starts_at="2030-05-02T00:00:00Z", ends_at="2030-05-01T00:00:00Z")

    response = await node.client.post("/programmes", json=body, headers=token("hzsteel", "cadre"))

    assert response.status_code == 422
    assert "ends_at" in response.json()["errors"][0]["reason"]


async def _publish(node, token, programme_body, count: int) -> set[str]:
    ids = set()
    for n in range(count):
        response = await node.client.post(
            "/programmes", json=programme_body(title=f"P{n}"), headers=token("hzsteel", "cadre")
        )
        ids.add(response.json()["programme_id"])
    return ids


async def test_pages_follow_next_cursor_until_every_programme_was_seen_once(
    node, token, programme_body
) -> None:
    published = await _publish(node, token, programme_body, 5)
    reader = token("hzsteel-rolling", "member")

    seen, sizes, cursor = [], [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await node.client.get("/programmes", params=params, headers=reader)).json()
        seen += [p["programme_id"] for p in page["items"]]
        sizes.append(len(page["items"]))
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert sizes == [2, 2, 1]
    assert len(seen) == len(set(seen))
    assert set(seen) == published


async def test_a_page_that_holds_everything_has_no_next_cursor(node, token, programme_body) -> None:
    await _publish(node, token, programme_body, 3)

    response = await node.client.get(
        "/programmes", params={"limit": 3}, headers=token("hzsteel", "cadre")
    )

    assert response.status_code == 200
    assert len(response.json()["items"]) == 3
    assert response.json()["next_cursor"] is None


async def test_a_page_may_hold_200_items_but_not_201(node, token) -> None:
    headers = token("hzsteel", "cadre")

    at_limit = await node.client.get("/programmes", params={"limit": 200}, headers=headers)
    over = await node.client.get("/programmes", params={"limit": 201}, headers=headers)

    assert at_limit.status_code == 200
    assert over.status_code == 422
    assert over.headers["content-type"] == PROBLEM
    assert over.json()["errors"][0]["field"] == "query.limit"
