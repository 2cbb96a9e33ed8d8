"""POST and GET /programmes: publication inside the owner's subtree, and cursor pagination."""

from __future__ import annotations

from typing import Any

import pytest

from enrollment.app import MIGRATIONS
from enrollment.service.programmes import copy_programme
from shared.contracts import topics
from shared.contracts.events import ProgrammePublished
from shared.testing import migrated

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


# -- place, quotas, cost, cut-off, approval, eligibility, offers, over-budget ---------------

SETTINGS: dict[str, Any] = {
    "place": "Hangzhou training centre, hall 3",
    "online_link": "https://learn.example/crane",
    "kind_detail": "pre-job safety training",
    "quotas": {"hzsteel-rolling": 20, "hzsteel-casting": 10},
    "cost_per_seat_fen": 12_000,
    "enrollment_closes_at": "2030-04-24T16:00:00Z",
    "requires_approval": True,
    "eligibility": {
        "joined_within_months": 12,
        "min_skill_grade": 3,
        "min_age": 18,
        "max_age": 45,
    },
    "offer_hours": 24,
    "over_budget": "approval",
}


def _shown(body: dict[str, Any]) -> dict[str, Any]:
    shown = {key: body[key] for key in SETTINGS}
    closes = shown["enrollment_closes_at"]
    shown["enrollment_closes_at"] = closes.replace("+00:00", "Z") if closes else closes
    return shown


async def test_a_programmes_settings_are_shown_as_published(node, token, programme_body) -> None:
    created = await node.client.post(
        "/programmes", json=programme_body(**SETTINGS), headers=token("hzsteel", "cadre")
    )
    fetched = await node.client.get(
        f"/programmes/{created.json()['programme_id']}", headers=token("hzsteel-rolling", "member")
    )

    assert created.status_code == 201, created.text
    assert _shown(created.json()) == SETTINGS
    assert _shown(fetched.json()) == SETTINGS


async def test_programme_published_carries_the_settings(
    node, token, outbox, programme_body
) -> None:
    await node.client.post(
        "/programmes", json=programme_body(**SETTINGS), headers=token("hzsteel", "cadre")
    )

    [row] = await outbox(node.db)
    event = ProgrammePublished.model_validate(row.payload)
    assert event.place == SETTINGS["place"]
    assert event.online_link == SETTINGS["online_link"]
    assert event.kind_detail == SETTINGS["kind_detail"]
    assert event.quotas == SETTINGS["quotas"]
    assert event.cost_per_seat_fen == 12_000
    assert event.enrollment_closes_at is not None
    assert event.enrollment_closes_at.isoformat() == "2030-04-24T16:00:00+00:00"
    assert event.requires_approval is True
    assert event.eligibility is not None
    assert event.eligibility.model_dump() == SETTINGS["eligibility"]
    assert (event.offer_hours, event.over_budget) == (24, "approval")


async def test_a_programme_without_settings_has_the_defaults(node, token, outbox, programme_body):
    created = await node.client.post(
        "/programmes", json=programme_body(), headers=token("hzsteel", "cadre")
    )

    body = created.json()
    assert body["quotas"] == {}
    assert body["eligibility"] is None
    assert (body["cost_per_seat_fen"], body["offer_hours"], body["over_budget"]) == (
        0,
        48,
        "refuse",
    )
    assert (body["requires_approval"], body["enrollment_closes_at"], body["place"]) == (
        False,
        None,
        None,
    )
    [row] = await outbox(node.db)
    assert row.payload["eligibility"] is None
    assert row.payload["requires_approval"] is False


async def test_partial_eligibility_rules_are_kept_as_given(node, token, programme_body) -> None:
    created = await node.client.post(
        "/programmes",
        json=programme_body(eligibility={"min_skill_grade": 5}),
        headers=token("hzsteel", "cadre"),
    )

    assert created.json()["eligibility"] == {
        "joined_within_months": None,
        "min_skill_grade": 5,
        "min_age": None,
        "max_age": None,
    }


async def test_a_copy_at_another_node_keeps_the_settings(
    node, token, outbox, programme_body, settings, make_service, federation_keys, tmp_path
) -> None:
    created = await node.client.post(
        "/programmes", json=programme_body(**SETTINGS), headers=token("hzsteel", "cadre")
    )
    [row] = await outbox(node.db)
    url = f"sqlite+aiosqlite:///{tmp_path / 'js.db'}"
    await migrated(MIGRATIONS, url)
    js = await make_service(
        settings.model_copy(
            update={
                "node_id": "js",
                "root_org": "js",
                "database_url": url,
                "node_key_path": federation_keys.key_path("js"),
            }
        )
    )

    async with js.db.transaction() as session:
        await copy_programme(session, js.ctx, ProgrammePublished.model_validate(row.payload))
    copied = await js.client.get(
        f"/programmes/{created.json()['programme_id']}", headers=token("js-nj", "member", node="js")
    )

    assert copied.status_code == 200, copied.text
    assert copied.json()["owner_node"] == "zj"
    assert _shown(copied.json()) == SETTINGS


@pytest.mark.parametrize(
    ("audience", "quotas", "field"),
    [
        (None, {"hzsteel": 5}, "quotas.hzsteel"),  # the owner itself: not a sub-org
        (None, {"js-nj": 5}, "quotas.js-nj"),  # outside the owner's subtree
        (None, {"ghost": 5}, "quotas.ghost"),  # not known
        (["hzsteel-rolling"], {"hzsteel-casting": 5}, "quotas.hzsteel-casting"),  # not audience
        (None, {"hzsteel-rolling": -1}, "quotas.hzsteel-rolling"),
        (None, {"Not An Org": 1}, "quotas.Not An Org.[key]"),
    ],
)
async def test_a_quota_for_an_org_not_below_the_owner_in_the_audience_is_named(
    node, token, outbox, programme_body, audience, quotas, field
) -> None:
    response = await node.client.post(
        "/programmes",
        json=programme_body(audience=audience, quotas=quotas),
        headers=token("hzsteel", "cadre"),
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == field
    assert await outbox(node.db) == []


async def test_a_quota_below_an_audience_root_is_accepted(node, token, programme_body) -> None:
    response = await node.client.post(
        "/programmes",
        json=programme_body(owner_org="zj-hz", audience=["hzsteel"], quotas={"hzsteel-rolling": 3}),
        headers=token("zj-hz", "cadre"),
    )

    assert response.status_code == 201, response.text
    assert response.json()["quotas"] == {"hzsteel-rolling": 3}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"enrollment_closes_at": "2030-05-01T01:00:01Z"}, "enrollment_closes_at"),  # after start
        ({"enrollment_closes_at": "2030-05-01T09:30:00+08:00"}, "enrollment_closes_at"),
        ({"enrollment_closes_at": "2030-04-30T00:00:00"}, "enrollment_closes_at"),  # no offset
        ({"cost_per_seat_fen": -1}, "cost_per_seat_fen"),
        ({"eligibility": {"min_age": 40, "max_age": 30}}, "eligibility.max_age"),
        ({"eligibility": {"min_skill_grade": 9}}, "eligibility.min_skill_grade"),
        ({"offer_hours": 0}, "offer_hours"),
        ({"over_budget": "ignore"}, "over_budget"),
        ({"online_link": "javascript:alert(1)"}, "online_link"),
        ({"place": "  "}, "place"),
    ],
)
async def test_bad_programme_settings_are_unprocessable_naming_the_field(
    node, token, outbox, programme_body, fields, field
) -> None:
    response = await node.client.post(
        "/programmes", json=programme_body(**fields), headers=token("hzsteel", "cadre")
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert await outbox(node.db) == []


async def test_the_cut_off_may_be_the_start_itself(node, token, programme_body) -> None:
    response = await node.client.post(
        "/programmes",
        json=programme_body(enrollment_closes_at="2030-05-01T01:00:00Z"),
        headers=token("hzsteel", "cadre"),
    )

    assert response.status_code == 201, response.text
