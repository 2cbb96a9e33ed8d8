"""Signed webhooks for integrators, against a real HTTP receiver on 127.0.0.1 that checks
every request with the `standardwebhooks` library, as an integrator would."""

from __future__ import annotations

import ipaddress
import json
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from notifications.domain.staff import staff_recipient_id
from notifications.models import Delivery, WebhookDelivery
from notifications.webhooks.addresses import is_public
from notifications.webhooks.domain import WEBHOOK_DISABLED, matches, webhook_id
from shared.clock import FixedClock
from shared.contracts.events import EnrollmentConfirmed
from shared.messaging.consumer import Outcome

# The conftest's `Node` (a notifications service on SQLite, consumers fed by hand) and its
# factory; conftest modules are not importable under --import-mode=importlib.
Node = Any
NodeFactory = Callable[..., Awaitable[Any]]


# -- the receiver -----------------------------------------------------------------------------
@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: dict[str, bool]  # secret's name → did it verify
    error: str | None = None  # why the first secret failed, if it did


@dataclass
class Receiver:
    """An integrator's endpoint: verifies each request with every secret it knows, answers
    `status`."""

    url: str = ""
    status: int = 204
    secrets: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        verified: dict[str, bool] = {}
        error = None
        for name, secret in self.secrets.items():
            try:
                Webhook(secret).verify(body, headers)
                verified[name] = True
            except WebhookVerificationError as exc:
                verified[name] = False
                error = error or str(exc)
        self.received.append(Received(headers, body, verified, error))
        return self.status

    @property
    def ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            self.send_response(state.handle(headers, body))
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    yield state
    server.shutdown()
    server.server_close()


# -- the node and its API ----------------------------------------------------------------------
@pytest.fixture
async def hooks(make_node: NodeFactory) -> AsyncIterator[Node]:
    """A node whose integrators live next door (127.0.0.1): private URLs allowed."""
    node = await make_node(webhook_allow_private_urls=True)
    yield node
    await node.app.state.webhooks.close()


@pytest.fixture
async def api(hooks: Node) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=hooks.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def auth(node: Node, *, org: str = "fed", roles: list[str] | None = None) -> dict[str, str]:
    token = node.token(org=org, roles=roles or ["admin"])
    return {"Authorization": f"Bearer {token}"}


async def subscribe(
    node: Node, api: httpx.AsyncClient, receiver: Receiver, **fields: Any
) -> dict[str, Any]:
    body = {"url": receiver.url, "event_types": ["bigschool.enrollment.*"], **fields}
    response = await api.post("/webhooks", json=body, headers=auth(node))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    receiver.secrets["current"] = created["secret"]
    return created


async def confirm(node: Node, **fields: Any) -> str:
    """Feed an enrollment decision to the webhooks consumer; its ce_id."""
    event_id = str(uuid.uuid4())
    event = node.decision(str(uuid.uuid4()), EnrollmentConfirmed, **fields)
    assert await node.feed("webhooks", event, event_id) is Outcome.handled
    return event_id


async def send(node: Node) -> int:
    sent: int = await node.app.state.webhooks.send_once()
    return sent


async def webhook_rows(node: Node) -> list[WebhookDelivery]:
    async with node.db.sessions() as session:
        stmt = select(WebhookDelivery).order_by(WebhookDelivery.created_at)
        return list((await session.execute(stmt)).scalars())


# -- signing and verifying ---------------------------------------------------------------------
async def test_each_delivery_is_signed_per_standard_webhooks_and_the_receiver_verifies_it(
    hooks: Node, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    created = await subscribe(hooks, api, receiver)
    ce_id = await confirm(hooks)

    assert await send(hooks) == 1

    assert created["secret"].startswith("whsec_")
    [request] = receiver.received
    assert request.verified == {"current": True}
    assert request.headers["webhook-id"] == webhook_id(ce_id, created["subscription_id"])
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.body)
    assert body["id"] == ce_id and body["type"] == EnrollmentConfirmed.ce_type
    assert body["source"] == "bigschool/n1/test" and body["time"].endswith("Z")
    assert body["data"]["home_org"] == "steel-rolling"
    log = await api.get(f"/webhooks/{created['subscription_id']}/deliveries", headers=auth(hooks))
    [item] = log.json()["items"]
    assert item["delivery_id"] == request.headers["webhook-id"] and item["status"] == "sent"
    assert [(a["outcome"], a["status_code"]) for a in item["log"]] == [("sent", 204)]
    assert "body" not in item


async def test_a_tampered_body_fails_verification(
    hooks: Node, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    await subscribe(hooks, api, receiver)
    await confirm(hooks)
    await send(hooks)
    [request] = receiver.received

    tampered = request.body.replace(b"steel-rolling", b"steel-rollinG")

    assert tampered != request.body
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(receiver.secrets["current"]).verify(tampered, request.headers)


async def test_a_request_with_an_old_timestamp_fails_verification(
    hooks: Node, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    await subscribe(hooks, api, receiver)
    # A sender whose real clock is ten minutes behind: its timestamps are stale on arrival.
    hooks.app.state.webhooks.wall_clock = FixedClock(datetime.now(UTC) - timedelta(minutes=10))
    await confirm(hooks)

    await send(hooks)

    [request] = receiver.received
    assert request.verified == {"current": False}
    assert request.error == "Message timestamp too old"


# -- exactly one per event, and replays ------------------------------------------------------
async def test_the_same_event_fed_three_times_is_one_delivery_and_one_post(
    hooks: Node, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    await subscribe(hooks, api, receiver)
    event = hooks.decision(str(uuid.uuid4()), EnrollmentConfirmed)
    event_id = str(uuid.uuid4())
    outcomes = [await hooks.feed("webhooks", event, event_id) for _ in range(3)]

    while await send(hooks):
        pass

    assert outcomes == [Outcome.handled, Outcome.duplicate, Outcome.duplicate]
    assert len(await webhook_rows(hooks)) == 1
    assert len(receiver.received) == 1


async def test_a_replay_resends_the_deliveries_of_the_range_with_the_same_webhook_ids(
    hooks: Node, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    created = await subscribe(hooks, api, receiver)
    start = hooks.clock.now()
    for _ in range(2):
        await confirm(hooks)
        hooks.clock.advance(60)
    await send(hooks)
    later = await confirm(hooks)  # outside the range: not replayed
    await send(hooks)
    first_ids, first_bodies = receiver.ids[:2], [r.body for r in receiver.received[:2]]

    span = {"from": start.isoformat(), "to": (start + timedelta(seconds=90)).isoformat()}
    path = f"/webhooks/{created['subscription_id']}/replay"
    response = await api.post(path, json=span, headers=auth(hooks))
    await send(hooks)

    assert response.status_code == 200 and response.json() == {"requeued": 2}
    assert sorted(receiver.ids[3:]) == sorted(first_ids)
    assert sorted(r.body for r in receiver.received[3:]) == sorted(first_bodies)
    assert all(r.verified == {"current": True} for r in receiver.received)
    assert webhook_id(later, created["subscription_id"]) not in receiver.ids[3:]


# -- secret rotation --------------------------------------------------------------------------
async def test_after_a_rotation_both_secrets_verify_during_the_overlap_and_only_the_new_after(
    hooks: Node, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    created = await subscribe(hooks, api, receiver)
    path = f"/webhooks/{created['subscription_id']}/rotate-secret"
    rotated = (await api.post(path, headers=auth(hooks))).json()
    receiver.secrets = {"old": created["secret"], "new": rotated["secret"]}

    await confirm(hooks)
    await send(hooks)
    hooks.clock.advance(24 * 3600 + 1)  # the overlap (24 h by default) is over
    await confirm(hooks)
    await send(hooks)

    assert rotated["secret"] != created["secret"] and rotated["secret"].startswith("whsec_")
    assert rotated["previous_secret_until"] is not None
    during, after = receiver.received
    assert during.verified == {"old": True, "new": True}
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert after.verified == {"old": False, "new": True}
    shown = (await api.get(f"/webhooks/{created['subscription_id']}", headers=auth(hooks))).json()
    assert "secret" not in shown


# -- failures ---------------------------------------------------------------------------------
async def test_a_failing_receiver_is_retried_then_disabled_and_its_admin_is_told(
    hooks: Node, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    on_call = {"name": "Ops", "email": "ops@fed.example.org", "duties": ["admin"]}
    listed = await api.put("/orgs/fed/staff/ops-on-call", json=on_call, headers=auth(hooks))
    assert listed.status_code == 200, listed.text
    receiver.status = 500
    created = await subscribe(hooks, api, receiver)
    sub_id = created["subscription_id"]
    await confirm(hooks)

    for _ in range(60):  # each retry when it is due, until the subscription gives up
        await send(hooks)
        [row] = await webhook_rows(hooks)
        shown = (await api.get(f"/webhooks/{sub_id}", headers=auth(hooks))).json()
        if shown["status"] == "disabled" or row.status != "pending":
            break
        hooks.clock.at = max(hooks.clock.at, row.next_attempt_at)

    assert shown["status"] == "disabled" and shown["disabled_at"] is not None
    assert len(receiver.received) == row.attempts > 5  # retried, with growing waits
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    log = (await api.get(f"/webhooks/{sub_id}/deliveries", headers=auth(hooks))).json()
    assert {(a["outcome"], a["status_code"]) for a in log["items"][0]["log"][:-1]} == {
        ("deferred", 500)
    }
    # The admin who created it, and the node's staff on `admin` duty.
    admins = [staff_recipient_id("fed", "staff-fed"), staff_recipient_id("fed", "ops-on-call")]
    async with hooks.db.sessions() as session:
        told = list((await session.execute(select(Delivery))).scalars())
    assert sorted((d.member_id, d.event_type, d.channel) for d in told) == sorted(
        (admin, WEBHOOK_DISABLED, channel) for admin in admins for channel in ("email", "inapp")
    )
    assert told[0].data["subscription_id"] == sub_id

    # Disabled: new events are not planned for it; enabled again, what waits is sent.
    receiver.status = 200
    await confirm(hooks)
    enabled = await api.post(f"/webhooks/{sub_id}/enable", headers=auth(hooks))
    await send(hooks)
    assert enabled.json()["status"] == "active"
    assert len(await webhook_rows(hooks)) == 1


async def test_a_url_that_stops_being_safe_fails_the_attempt_at_send_time(
    hooks: Node, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    created = await subscribe(hooks, api, receiver)
    hooks.ctx.settings.webhook_allow_private_urls = False  # as if DNS now said 127.0.0.1
    await confirm(hooks)

    await send(hooks)

    assert receiver.received == []
    log = await api.get(f"/webhooks/{created['subscription_id']}/deliveries", headers=auth(hooks))
    [attempt] = log.json()["items"][0]["log"]
    assert attempt["error_type"] == "UnsafeUrl" and attempt["status_code"] is None


# -- filters ----------------------------------------------------------------------------------
async def test_only_events_of_the_subscribed_types_and_org_subtrees_are_sent(
    hooks: Node, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    await subscribe(hooks, api, receiver, orgs=["steel-rolling"])
    await subscribe(hooks, api, receiver, event_types=["bigschool.awards.*"])
    inside = await confirm(hooks)  # involves steel and steel-rolling
    await confirm(hooks, home_org="steel")  # only steel: outside the subtree

    await send(hooks)

    assert [json.loads(r.body)["id"] for r in receiver.received] == [inside]


# -- the API's guards ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "https://10.1.2.3/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/",
        "ftp://example.org/hook",
    ],
)
async def test_a_private_loopback_or_non_http_url_is_refused_unless_the_node_allows_it(
    make_node: NodeFactory, url: str
) -> None:
    node = await make_node()  # webhook_allow_private_urls is off by default
    transport = httpx.ASGITransport(app=node.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        body = {"url": url, "event_types": ["bigschool.enrollment.*"]}
        response = await client.post("/webhooks", json=body, headers=auth(node))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "url"


@pytest.mark.parametrize(
    ("org", "roles"),
    [("fed", ["cadre"]), ("steel", ["admin"]), ("steel-rolling", ["member"])],
)
async def test_only_an_admin_of_the_node_manages_webhooks(
    hooks: Node, api: httpx.AsyncClient, receiver: Receiver, org: str, roles: list[str]
) -> None:
    created = await subscribe(hooks, api, receiver)
    headers = auth(hooks, org=org, roles=roles)
    body = {"url": receiver.url, "event_types": ["*"]}

    responses = [
        await api.post("/webhooks", json=body, headers=headers),
        await api.get("/webhooks", headers=headers),
        await api.get(f"/webhooks/{created['subscription_id']}/deliveries", headers=headers),
        await api.post(f"/webhooks/{created['subscription_id']}/rotate-secret", headers=headers),
    ]

    assert [r.status_code for r in responses] == [403] * 4


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event_types": ["bigschool.no_such.thing.v1"]}, "event_types.0"),
        ({"event_types": ["bigschool.enrollment*"]}, "event_types.0"),
        ({"event_types": []}, "event_types"),
        ({"orgs": ["atlantis"]}, "orgs"),
        ({"orgs": ["Not An Org"]}, "orgs.0"),
        ({"url": "not a url"}, "url"),
        ({"description": "\u202eevil"}, "description"),
    ],
)
async def test_bad_input_is_refused_naming_the_field(
    hooks: Node,
    api: httpx.AsyncClient,
    receiver: Receiver,
    body: dict[str, Any],
    field: str,
) -> None:
    request = {"url": receiver.url, "event_types": ["bigschool.enrollment.*"], **body}

    response = await api.post("/webhooks", json=request, headers=auth(hooks))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


async def test_a_replay_range_must_be_forward_and_bounded(
    hooks: Node, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    created = await subscribe(hooks, api, receiver)
    path = f"/webhooks/{created['subscription_id']}/replay"
    now = hooks.clock.now()

    backwards = {"from": now.isoformat(), "to": (now - timedelta(hours=1)).isoformat()}
    too_long = {"from": now.isoformat(), "to": (now + timedelta(days=8)).isoformat()}
    naive = {"from": "2025-03-01T00:00:00", "to": "2025-03-02T00:00:00"}
    answers = [await api.post(path, json=s, headers=auth(hooks)) for s in (backwards, too_long)]
    naive_answer = await api.post(path, json=naive, headers=auth(hooks))

    assert [a.status_code for a in answers] == [422, 422]
    assert [a.json()["errors"][0]["field"] for a in answers] == ["to", "to"]
    assert naive_answer.status_code == 422


async def test_subscriptions_are_listed_changed_and_deleted_with_their_log(
    hooks: Node, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    ids = []
    for _ in range(3):
        ids.append((await subscribe(hooks, api, receiver))["subscription_id"])
        hooks.clock.advance(1)
    await confirm(hooks)
    await send(hooks)

    first = (await api.get("/webhooks", params={"limit": 2}, headers=auth(hooks))).json()
    params = {"limit": 2, "cursor": first["next_cursor"]}
    second = (await api.get("/webhooks", params=params, headers=auth(hooks))).json()
    patch = {"event_types": ["bigschool.awards.*"], "description": "Payroll"}
    patched = await api.patch(f"/webhooks/{ids[0]}", json=patch, headers=auth(hooks))
    deleted = await api.delete(f"/webhooks/{ids[1]}", headers=auth(hooks))
    gone = await api.get(f"/webhooks/{ids[1]}", headers=auth(hooks))

    listed = [s["subscription_id"] for s in first["items"] + second["items"]]
    assert listed == ids[::-1] and second["next_cursor"] is None
    assert all("secret" not in s for s in first["items"])
    assert patched.json()["event_types"] == ["bigschool.awards.*"]
    assert patched.json()["description"] == "Payroll"
    assert deleted.status_code == 204 and gone.status_code == 404
    assert {r.subscription_id for r in await webhook_rows(hooks)} == {ids[0], ids[2]}


async def test_a_node_keeps_a_bounded_number_of_subscriptions(
    make_node: NodeFactory, receiver: Receiver
) -> None:
    node = await make_node(webhook_allow_private_urls=True, webhook_max_subscriptions=1)
    transport = httpx.ASGITransport(app=node.app)
    body = {"url": receiver.url, "event_types": ["*"]}
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answers = [await client.post("/webhooks", json=body, headers=auth(node)) for _ in "ab"]

    assert [a.status_code for a in answers] == [201, 409]


# -- the rules, without I/O -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "event_type", "expected"),
    [
        ("bigschool.enrollment.*", "bigschool.enrollment.confirmed.v1", True),
        ("bigschool.enrollment.*", "bigschool.enrollments.x.v1", False),
        ("bigschool.enrollment.confirmed.v1", "bigschool.enrollment.confirmed.v1", True),
        ("bigschool.enrollment.confirmed.v1", "bigschool.enrollment.confirmed.v2", False),
        ("*", "bigschool.awards.honour_granted.v1", True),
    ],
)
def test_event_type_patterns_match_exact_types_and_dotted_prefixes(
    pattern: str, event_type: str, expected: bool
) -> None:
    assert matches(pattern, event_type) is expected


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
    ],
)
def test_only_public_addresses_pass_the_ssrf_guard(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public
