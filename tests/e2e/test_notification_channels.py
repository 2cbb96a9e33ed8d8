"""Every channel at once, on the real broker, PostgreSQL, SMTP server and HTTP server: an event
redelivered three times on Kafka tells the member once per channel (e-mail, SMS, inbox) and
the integrator once (a signed webhook); the portal's live inbox stream receives the item
without reloading, and a reconnect with Last-Event-ID misses nothing."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from standardwebhooks import Webhook

from deploy.local.federation import ENTERPRISE_NODE
from shared.contracts import topics
from shared.contracts.base import Event
from shared.contracts.envelope import envelope_for
from shared.contracts.events import EnrollmentOffered
from tests.e2e.conftest import RunningFederation
from tests.e2e.helpers import messages_to, new_members, wait_until

pytestmark = pytest.mark.e2e

HOOK_PATH = "/hooks/integrator"


def offer_to(fed: RunningFederation, member: dict[str, Any]) -> EnrollmentOffered:
    now = fed.now()  # earlier tests may have moved the services' clocks ahead
    return EnrollmentOffered(
        enrollment_id=str(uuid.uuid4()),
        programme_id=str(uuid.uuid4()),
        member_id=member["member_id"],
        owner_org="zj-hz",
        home_org=member["home_org"],
        sequence=7,
        offered_at=now,
        offer_expires_at=now + timedelta(hours=48),
        programme_title="Crane safety refresher",
    )


def produce(fed: RunningFederation, event: Event, event_id: str, times: int) -> None:
    """The same message (same ce_id) `times` times, as a producer retrying would."""
    kafka = fed.kafka
    envelope = envelope_for(
        event, source="bigschool/zj/enrollment", at=fed.now(), event_id=event_id
    )

    async def run() -> None:
        producer = AIOKafkaProducer(**kafka.aiokafka(), enable_idempotence=True)
        await producer.start()
        try:
            for _ in range(times):
                await producer.send_and_wait(
                    topics.ENROLLMENT,
                    event.model_dump_json().encode(),
                    key=event.subject().encode(),
                    headers=envelope.headers(),
                )
        finally:
            await producer.stop()

    asyncio.run(run())


def subscribe(fed: RunningFederation) -> str:
    """A webhook subscription of the enterprise node's admin to enrollment events; its secret."""
    admin = fed.federation.admin(ENTERPRISE_NODE, "notifications")
    try:
        created = admin.post(
            "/webhooks",
            {"url": fed.http.url + HOOK_PATH, "event_types": ["bigschool.enrollment.*"]},
        )
    finally:
        admin.close()
    return str(created["secret"])


def test_an_event_delivered_three_times_tells_each_channel_once(
    running_federation: RunningFederation,
) -> None:
    fed = running_federation
    [member] = new_members(fed.federation, 1, language="en")
    secret = subscribe(fed)
    inbox = fed.federation.member_client(ENTERPRISE_NODE, member, "notifications")
    # An offer lapses at its deadline: with SMS chosen, it goes on every channel at once.
    response = inbox.http.put(
        "/preferences/me", json={"channels": {"offers": ["inapp", "sms", "email"]}}
    )
    assert response.status_code == 200, response.text
    event, event_id = offer_to(fed, member), str(uuid.uuid4())

    produce(fed, event, event_id, times=3)

    def sms_to_member() -> list[Any]:
        return [
            r
            for r in fed.http.requests
            if r.path == "/messages" and r.json()["to"] == member["phone"]
        ]

    def hooks_for_event() -> list[Any]:
        return [
            r
            for r in fed.http.requests
            if r.path == HOOK_PATH and json.loads(r.body)["id"] == event_id
        ]

    wait_until(sms_to_member, what="the SMS")
    wait_until(hooks_for_event, what="the webhook")
    mails = wait_until(
        lambda: (seen := messages_to(fed.smtp, {member["email"]}))[member["email"]] and seen,
        what="the e-mail",
    )
    items = inbox.wait_for("/inbox", lambda body: len(body["items"]) >= 1)["items"]
    time.sleep(3)  # anything doubled would have arrived by now

    [mail_id] = mails[member["email"]]
    assert len([m for m in fed.smtp.messages if member["email"] in m.rcpt_tos]) == 1
    [sms] = sms_to_member()
    assert "Crane safety refresher" in sms.json()["text"]
    [hook] = hooks_for_event()
    assert len(inbox.get("/inbox")["items"]) == len(items) == 1
    assert "Crane safety refresher" in items[0]["title"]
    # Distinct, stable ids per channel: Message-ID, the SMS Idempotency-Key, the webhook-id.
    ids = {mail_id, sms.headers["idempotency-key"], hook.headers["webhook-id"]}
    assert len(ids) == 3
    # The integrator verifies the signature with the Standard Webhooks library.
    payload = Webhook(secret).verify(hook.body, hook.headers)
    assert payload["type"] == EnrollmentOffered.ce_type
    assert payload["data"]["member_id"] == member["member_id"]
    inbox.close()


class InboxStream:
    """The portal's side of `GET /inbox/stream`: a thread reading server-sent events."""

    def __init__(self, url: str, token: str, last_event_id: str | None = None) -> None:
        self.events: queue.Queue[tuple[str, str, dict[str, Any]]] = queue.Queue()
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(url, headers), daemon=True)
        self._thread.start()

    def _read(self, url: str, headers: dict[str, str]) -> None:
        timeout = httpx.Timeout(10, read=60)
        with httpx.stream("GET", url, headers=headers, timeout=timeout) as response:
            kind, event_id, data = "message", "", ""
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith("event:"):
                    kind = line.split(":", 1)[1].strip()
                elif line.startswith("id:"):
                    event_id = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    data += line.split(":", 1)[1].strip()
                elif not line and data:
                    self.events.put((kind, event_id, json.loads(data)))
                    kind, event_id, data = "message", "", ""

    def next_item(self, timeout: float) -> tuple[str, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            kind, event_id, data = self.events.get(timeout=left)
            if kind == "item":
                return event_id, data
        raise queue.Empty

    def close(self) -> None:
        self._stop.set()


def test_the_live_inbox_pushes_each_item_and_resumes_after_a_reconnect(
    running_federation: RunningFederation,
) -> None:
    fed = running_federation
    [member] = new_members(fed.federation, 1, language="zh")
    client = fed.federation.member_client(ENTERPRISE_NODE, member, "notifications")
    token = str(client.http.headers["Authorization"]).removeprefix("Bearer ")
    url = fed.node(ENTERPRISE_NODE).url("notifications") + "/inbox/stream"
    stream = InboxStream(url, token)
    time.sleep(1)  # connected before the event

    first = offer_to(fed, member)
    sent_at = time.monotonic()
    produce(fed, first, str(uuid.uuid4()), times=1)
    position, item = stream.next_item(timeout=30)
    print(f"event published → inbox item pushed: {time.monotonic() - sent_at:.2f} s")
    assert "Crane safety refresher" in item["title"]
    stream.close()

    # While the portal is away, two more notices arrive.
    for _ in range(2):
        produce(fed, offer_to(fed, member), str(uuid.uuid4()), times=1)
    client.wait_for("/inbox", lambda body: len(body["items"]) == 3)

    resumed = InboxStream(url, token, last_event_id=position)
    missed = [resumed.next_item(timeout=15) for _ in range(2)]
    resumed.close()
    client.close()
    assert item["item_id"] not in {m["item_id"] for _, m in missed}
    assert len({m["item_id"] for _, m in missed}) == 2
