"""The delivery log: an org's deliveries for its cadres (failed ones visible), a member's own with
their attempts, and a cadre's retry of a failed delivery."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from deploy.local.ports import free_port
from deploy.local.smtp import SmtpSink


@pytest.fixture
async def smtp_down(make_node: Any) -> AsyncIterator[tuple[Any, int]]:
    """A node whose SMTP server is down, giving up after one attempt; and that server's port."""
    port = free_port()
    yield await make_node(smtp_port=port, max_attempts=1), port


@pytest.fixture
async def api(smtp_down: tuple[Any, int]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=smtp_down[0].app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def bearer(node: Any, org: str, roles: list[str], member_id: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {node.token(org=org, roles=roles, member_id=member_id)}"}


async def failed_email(node: Any, home_org: str = "steel-rolling") -> str:
    """A member of `home_org` told of a decision: the in-app item is sent, the e-mail failed."""
    member = await node.add_member(home_org=home_org, email=f"m@{home_org}.example.org")
    await node.decide(member.member_id, home_org=home_org)
    await node.dispatcher.dispatch_once()
    assert (await node.delivery(member.member_id, "email")).status == "failed"
    return str(member.member_id)


async def test_a_cadre_lists_the_failed_deliveries_of_their_org_with_their_log(
    smtp_down: tuple[Any, int], api: httpx.AsyncClient
) -> None:
    node, _ = smtp_down
    member_id = await failed_email(node)
    await failed_email(node, home_org="steel")  # another org's member
    cadre = bearer(node, "steel-rolling", ["cadre"])

    response = await api.get("/deliveries", params={"status": "failed"}, headers=cadre)

    assert response.status_code == 200
    [delivery] = response.json()["items"]
    assert (delivery["member_id"], delivery["channel"], delivery["status"]) == (
        member_id,
        "email",
        "failed",
    )
    assert delivery["home_org"] == "steel-rolling"
    assert [(a["attempt"], a["outcome"], a["error_type"]) for a in delivery["log"]] == [
        (1, "failed", "SMTPConnectError")
    ]
    everything = (await api.get("/deliveries", headers=cadre)).json()["items"]
    assert {(d["channel"], d["status"]) for d in everything} == {
        ("email", "failed"),
        ("inapp", "sent"),
    }
    inapp = await api.get("/deliveries", params={"channel": "inapp"}, headers=cadre)
    assert [d["channel"] for d in inapp.json()["items"]] == ["inapp"]


@pytest.mark.parametrize(
    ("org", "roles", "status"),
    [
        ("steel-rolling", ["cadre"], 200),
        ("steel-rolling", ["admin"], 200),
        ("fed", ["admin"], 200),  # the node's admin: any org
        ("steel", ["cadre"], 403),  # another org's cadre (even the parent's)
        ("mine-shaft", ["cadre"], 403),
        ("steel-rolling", ["member"], 403),
        ("steel-rolling", ["reviewer"], 403),
    ],
)
async def test_only_support_staff_of_the_org_read_its_delivery_log(
    smtp_down: tuple[Any, int], api: httpx.AsyncClient, org: str, roles: list[str], status: int
) -> None:
    node, _ = smtp_down
    await failed_email(node)
    response = await api.get(
        "/deliveries", params={"org": "steel-rolling"}, headers=bearer(node, org, roles)
    )
    assert response.status_code == status
    if status == 200:
        assert len(response.json()["items"]) == 2


async def test_the_org_log_pages_newest_first_with_a_cursor(
    smtp_down: tuple[Any, int], api: httpx.AsyncClient
) -> None:
    node, _ = smtp_down
    for _ in range(3):
        await failed_email(node)
        node.clock.advance(60)
    cadre = bearer(node, "steel-rolling", ["cadre"])
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(4):
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (await api.get("/deliveries", params=params, headers=cadre)).json()
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert cursor is None and len({d["delivery_id"] for d in seen}) == len(seen) == 6
    created = [d["created_at"] for d in seen]
    assert created == sorted(created, reverse=True)
    bad = await api.get("/deliveries", params={"cursor": "x" * 600}, headers=cadre)
    assert bad.status_code == 422


async def test_a_member_sees_their_own_deliveries_with_their_attempts_and_no_one_elses(
    smtp_down: tuple[Any, int], api: httpx.AsyncClient
) -> None:
    node, _ = smtp_down
    me = await failed_email(node)
    await failed_email(node)  # someone else

    response = await api.get(
        "/deliveries/mine", headers=bearer(node, "steel-rolling", ["member"], me)
    )

    assert response.status_code == 200
    items = response.json()["items"]
    assert {d["member_id"] for d in items} == {me}
    logs = {d["channel"]: [(a["attempt"], a["outcome"]) for a in d["log"]] for d in items}
    assert logs == {"email": [(1, "failed")], "inapp": [(1, "sent")]}
    assert (await api.get("/deliveries/mine")).status_code == 401


async def test_a_cadre_retries_a_failed_delivery_and_it_is_sent_when_smtp_is_back(
    smtp_down: tuple[Any, int], api: httpx.AsyncClient
) -> None:
    node, port = smtp_down
    member_id = await failed_email(node)
    email = await node.delivery(member_id, "email")
    cadre = bearer(node, "steel-rolling", ["cadre"])
    node.clock.advance(3600)

    response = await api.post(f"/deliveries/{email.delivery_id}/retry", headers=cadre)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "pending"
    assert datetime.fromisoformat(body["next_attempt_at"]) == node.clock.now()  # due now
    assert [a["outcome"] for a in body["log"]] == ["failed", "retried"]
    with SmtpSink(port=port) as sink:
        assert await node.dispatcher.dispatch_once() == 1
        assert [m.rcpt_tos for m in sink.messages] == [("m@steel-rolling.example.org",)]
    email = await node.delivery(member_id, "email")
    assert email.status == "sent"
    log = await node.attempts(email.delivery_id)
    assert [(a.attempt, a.outcome) for a in log] == [(1, "failed"), (2, "retried"), (3, "sent")]

    again = await api.post(f"/deliveries/{email.delivery_id}/retry", headers=cadre)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


async def test_a_retry_that_fails_again_leaves_the_delivery_failed_and_retryable(
    smtp_down: tuple[Any, int], api: httpx.AsyncClient
) -> None:
    node, _ = smtp_down
    email = await node.delivery(await failed_email(node), "email")
    admin = bearer(node, "fed", ["admin"])  # the node's admin may retry any org's

    assert (await api.post(f"/deliveries/{email.delivery_id}/retry", headers=admin)).is_success
    await node.dispatcher.dispatch_once()  # SMTP still down

    failed = await api.get(
        "/deliveries", params={"org": "steel-rolling", "status": "failed"}, headers=admin
    )
    [row] = [d for d in failed.json()["items"] if d["delivery_id"] == email.delivery_id]
    assert [a["outcome"] for a in row["log"]] == ["failed", "retried", "failed"]
    assert (await api.post(f"/deliveries/{email.delivery_id}/retry", headers=admin)).is_success


@pytest.mark.parametrize(
    ("org", "roles"),
    [("steel", ["cadre"]), ("mine-shaft", ["admin"]), ("steel-rolling", ["member"])],
)
async def test_only_support_staff_of_the_recipients_org_may_retry(
    smtp_down: tuple[Any, int], api: httpx.AsyncClient, org: str, roles: list[str]
) -> None:
    node, _ = smtp_down
    member_id = await failed_email(node)
    email = await node.delivery(member_id, "email")
    response = await api.post(
        f"/deliveries/{email.delivery_id}/retry", headers=bearer(node, org, roles)
    )
    assert response.status_code == 404
    assert (await node.delivery(member_id, "email")).status == "failed"


async def test_a_pending_delivery_is_not_retried(
    smtp_down: tuple[Any, int], api: httpx.AsyncClient
) -> None:
    node, _ = smtp_down
    member = await node.add_member()
    await node.decide(member.member_id)  # planned, not attempted yet
    email = await node.delivery(member.member_id, "email")
    cadre = bearer(node, "steel-rolling", ["cadre"])
    response = await api.post(f"/deliveries/{email.delivery_id}/retry", headers=cadre)
    assert response.status_code == 409
    assert await node.attempts(email.delivery_id) == []
