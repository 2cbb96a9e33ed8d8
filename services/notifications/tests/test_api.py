from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest

from shared.contracts.events import EnrollmentRefused, EnrollmentWaitlisted


@pytest.fixture
async def api(node) -> AsyncIterator[httpx.AsyncClient]:
    # No lifespan: the runtime (Kafka, the dispatcher loop) is not started; tests drive it.
    transport = httpx.ASGITransport(app=node.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def notified_member(node, notices: int = 1) -> str:
    """A member of `steel-rolling` with `notices` in-app items, one a minute apart."""
    member = await node.add_member(email=None)
    kinds = (EnrollmentWaitlisted, EnrollmentRefused)
    for n in range(notices):
        await node.decide(member.member_id, kinds[n % 2])
        await node.dispatcher.dispatch_once()
        node.clock.advance(60)
    return member.member_id


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def as_member(node, member_id: str) -> dict[str, str]:
    return bearer(node.token(org="steel-rolling", roles=["member"], member_id=member_id))


async def test_the_inbox_shows_only_the_callers_items_newest_first_with_the_unread_count(
    node, api: httpx.AsyncClient
) -> None:
    me = await notified_member(node, notices=2)
    await notified_member(node, notices=1)  # someone else

    response = await api.get("/inbox", headers=as_member(node, me))

    assert response.status_code == 200
    body = response.json()
    titles = [i["title"] for i in body["items"]]
    assert titles[0].startswith("报名未成功") and titles[1].startswith("已进入候补名单")
    assert [i["event_type"] for i in body["items"]] == [
        EnrollmentRefused.ce_type,
        EnrollmentWaitlisted.ce_type,
    ]
    assert body["unread"] == 2 and body["next_cursor"] is None


async def test_the_inbox_pages_with_a_cursor_without_gaps_or_repeats(
    node, api: httpx.AsyncClient
) -> None:
    me = await notified_member(node, notices=5)
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(3):
        params: dict[str, str | int] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (await api.get("/inbox", params=params, headers=as_member(node, me))).json()
        seen += [i["item_id"] for i in body["items"]]
        cursor = body["next_cursor"]
    assert cursor is None
    assert len(seen) == len(set(seen)) == 5
    everything = (await api.get("/inbox", headers=as_member(node, me))).json()["items"]
    assert seen == [i["item_id"] for i in everything]


async def test_a_page_holds_at_most_two_hundred_items(node, api: httpx.AsyncClient) -> None:
    me = await notified_member(node)
    response = await api.get("/inbox", params={"limit": 201}, headers=as_member(node, me))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.limit"


async def test_a_cursor_not_from_this_api_is_a_422_naming_the_field(
    node, api: httpx.AsyncClient
) -> None:
    me = await notified_member(node)
    response = await api.get("/inbox", params={"cursor": "bm9wZQ"}, headers=as_member(node, me))
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
    node, api: httpx.AsyncClient, cursor: str
) -> None:
    me = await notified_member(node)
    response = await api.get("/inbox", params={"cursor": cursor}, headers=as_member(node, me))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["cursor"]


async def test_an_item_id_with_a_nul_is_a_422_naming_the_path_field(
    node, api: httpx.AsyncClient
) -> None:
    me = await notified_member(node)
    response = await api.post("/inbox/a%00b/read", headers=as_member(node, me))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["path.item_id"]


async def test_marking_an_item_read_lowers_the_unread_count_and_keeps_the_first_read_time(
    node, api: httpx.AsyncClient
) -> None:
    me = await notified_member(node, notices=2)
    [newest, _] = (await api.get("/inbox", headers=as_member(node, me))).json()["items"]

    first = await api.post(f"/inbox/{newest['item_id']}/read", headers=as_member(node, me))
    node.clock.advance(60)
    again = await api.post(f"/inbox/{newest['item_id']}/read", headers=as_member(node, me))

    assert first.status_code == again.status_code == 200
    assert first.json()["read_at"] is not None
    assert again.json()["read_at"] == first.json()["read_at"]
    assert (await api.get("/inbox", headers=as_member(node, me))).json()["unread"] == 1


async def test_another_members_item_cannot_be_marked_read(node, api: httpx.AsyncClient) -> None:
    owner = await notified_member(node)
    intruder = await notified_member(node)
    [item] = (await api.get("/inbox", headers=as_member(node, owner))).json()["items"]

    response = await api.post(f"/inbox/{item['item_id']}/read", headers=as_member(node, intruder))

    assert response.status_code == 404
    assert (await api.get("/inbox", headers=as_member(node, owner))).json()["unread"] == 1


async def test_the_inbox_needs_a_valid_token(node, api: httpx.AsyncClient) -> None:
    assert (await api.get("/inbox")).status_code == 401
    assert (await api.get("/inbox", headers=bearer("not-a-jwt"))).status_code == 401


async def test_a_staff_token_reads_its_own_staff_inbox_and_a_bare_token_has_none(
    node, api: httpx.AsyncClient
) -> None:
    await notified_member(node)  # a member's item: not the cadre's
    cadre = bearer(node.token(org="steel-rolling", roles=["cadre"]))
    response = await api.get("/inbox", headers=cadre)
    assert response.status_code == 200 and response.json()["items"] == []
    nobody = bearer(node.token(org="steel-rolling", roles=[]))
    assert (await api.get("/inbox", headers=nobody)).status_code == 403


@pytest.mark.parametrize(
    ("org", "roles", "visible"),
    [
        ("steel-rolling", ["cadre"], True),  # the recipient's home org
        ("steel-rolling", ["admin"], True),
        ("fed", ["admin"], True),  # the node's root org
        ("fed", ["cadre"], False),
        ("steel", ["admin"], False),  # a parent org is not support for its members
        ("mine-shaft", ["cadre"], False),  # another node's org
        ("steel-rolling", ["member"], False),
        ("steel-rolling", ["reviewer"], False),
    ],
)
async def test_a_delivery_and_its_log_are_visible_only_to_support_staff(
    node, api: httpx.AsyncClient, org: str, roles: list[str], visible: bool
) -> None:
    member_id = await notified_member(node)
    email = await node.delivery(member_id, "email")

    response = await api.get(
        f"/deliveries/{email.delivery_id}", headers=bearer(node.token(org=org, roles=roles))
    )

    assert response.status_code == (200 if visible else 404)
    if visible:
        body = response.json()
        assert (body["status"], body["channel"], body["member_id"]) == (
            "skipped",
            "email",
            member_id,
        )
        assert [(a["attempt"], a["outcome"]) for a in body["log"]] == [(1, "skipped")]


async def test_the_recipient_cannot_read_the_support_view_of_their_own_delivery(
    node, api: httpx.AsyncClient
) -> None:
    member_id = await notified_member(node)
    email = await node.delivery(member_id, "email")
    response = await api.get(f"/deliveries/{email.delivery_id}", headers=as_member(node, member_id))
    assert response.status_code == 404


async def test_an_unknown_delivery_is_a_404_problem(node, api: httpx.AsyncClient) -> None:
    admin = bearer(node.token(org="fed", roles=["admin"]))
    response = await api.get("/deliveries/nope", headers=admin)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
