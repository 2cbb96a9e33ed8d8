"""Webhook senders of several replicas on one PostgreSQL database: `FOR UPDATE SKIP LOCKED`
plus the lease give each delivery to exactly one of them, and a redelivered event is still
one delivery. `fresh_pg_url` comes from the repository's root conftest (tests/fixtures.py)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from shared.contracts.events import EnrollmentConfirmed
from shared.messaging.consumer import Outcome

pytestmark = pytest.mark.integration


@pytest.fixture
def received() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A receiver on 127.0.0.1 answering 200: its URL and what it received."""
    requests: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks", requests
    server.shutdown()
    server.server_close()


async def test_replicas_sending_together_post_each_webhook_once(
    make_node: Any, fresh_pg_url: str, received: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, requests = received
    replicas = [
        await make_node(
            database_url=fresh_pg_url, webhook_allow_private_urls=True, webhook_batch_size=4
        )
        for _ in range(3)
    ]
    first = replicas[0]
    token = first.token(org="fed", roles=["admin"])
    transport = httpx.ASGITransport(app=first.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as api:
        body = {"url": url, "event_types": ["bigschool.enrollment.confirmed.v1"]}
        answer = await api.post(
            "/webhooks", json=body, headers={"Authorization": f"Bearer {token}"}
        )
    secret = answer.json()["secret"]
    for _ in range(20):
        event = first.decision(str(uuid.uuid4()), EnrollmentConfirmed)
        event_id = str(uuid.uuid4())
        outcomes = [await r.feed("webhooks", event, event_id) for r in replicas]
        assert outcomes == [Outcome.handled, Outcome.duplicate, Outcome.duplicate]

    for _ in range(10):
        claimed = await asyncio.gather(*(r.app.state.webhooks.send_once() for r in replicas))
        if not any(claimed):
            break
    for replica in replicas:
        await replica.app.state.webhooks.close()

    per_id = Counter(headers["webhook-id"] for headers, _ in requests)
    assert len(per_id) == 20 and set(per_id.values()) == {1}
    for headers, payload in requests:
        Webhook(secret).verify(payload, headers)
