"""The live inbox over Server-Sent Events, against the real app served by uvicorn on a free port,
read by an httpx streaming client acting as the portal; plus the unread count and read-all."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from alembic import command
from sqlalchemy import text

from deploy.local.ports import free_port
from notifications import repository
from notifications.app import MIGRATIONS
from notifications.domain.staff import staff_recipient_id
from shared.contracts.events import EnrollmentRefused, EnrollmentWaitlisted
from shared.db import Database
from shared.migrations import alembic_config
from shared.testing import migrated

# The app looks for items every this often when no commit of its own wakes it.
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Event:
    event: str
    data: Any
    id: str | None


@dataclass
class Portal:
    """A portal's open inbox stream: events parsed as they arrive, in order."""

    response: httpx.Response
    events: asyncio.Queue[Event] = field(default_factory=asyncio.Queue)
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    async def read(self) -> None:
        fields: dict[str, str] = {}
        try:
            async for line in self.response.aiter_lines():
                if line == "":
                    if "event" in fields or "data" in fields:
                        data = json.loads(fields.get("data", "null"))
                        self.events.put_nowait(
                            Event(fields.get("event", "message"), data, fields.get("id"))
                        )
                    fields = {}
                elif not line.startswith(":"):  # a comment: the keep-alive ping
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
        finally:
            self.ended.set()

    async def next(self, kind: str, seconds: float = 5.0) -> Event:
        """The next event of `kind`, skipping the others."""
        async with asyncio.timeout(seconds):
            while True:
                event = await self.events.get()
                if event.event == kind:
                    return event

    async def items(self, count: int) -> list[Event]:
        return [await self.next("item") for _ in range(count)]

    async def no_more_items(self, seconds: float = 4 * POLL_SECONDS) -> bool:
        """Nothing but unread counts for a few polls."""
        try:
            await self.next("item", seconds)
        except TimeoutError:
            return True
        return False


@dataclass
class Server:
    url: str
    server: uvicorn.Server

    @asynccontextmanager
    async def stream(self, headers: dict[str, str], **params: Any) -> AsyncIterator[Portal]:
        async with (
            httpx.AsyncClient(base_url=self.url, timeout=10) as client,
            client.stream("GET", "/inbox/stream", headers=headers, params=params) as response,
        ):
            assert response.status_code == 200, response.status_code
            assert response.headers["content-type"].startswith("text/event-stream")
            portal = Portal(response)
            reader = asyncio.create_task(portal.read())
            try:
                yield portal
            finally:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)


@pytest.fixture
async def served(make_node, smtp_sink) -> AsyncIterator[tuple[Any, Server]]:
    """The node's real app under uvicorn (no lifespan: Kafka and the dispatcher loop are not
    started; the test records items by driving the dispatcher)."""
    node = await make_node(smtp_port=smtp_sink.port, inbox_stream_poll_seconds=POLL_SECONDS)
    port = free_port()
    config = uvicorn.Config(
        node.app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:  # noqa: ASYNC110 (uvicorn offers a flag, not an event)
            await asyncio.sleep(0.01)
    yield node, Server(f"http://127.0.0.1:{port}", server)
    server.should_exit = True
    await asyncio.wait_for(task, 10)


def as_member(node: Any, member_id: str) -> dict[str, str]:
    token = node.token(org="steel-rolling", roles=["member"], member_id=member_id)
    return {"Authorization": f"Bearer {token}"}


async def notify(node: Any, member_id: str, count: int = 1) -> list[str]:
    """`count` decisions about the member, recorded in their inbox; the inbox items' ids."""
    ids = []
    for n in range(count):
        ce_id = await node.decide(member_id, (EnrollmentWaitlisted, EnrollmentRefused)[n % 2])
        await node.dispatcher.dispatch_once()
        [inapp] = [
            d for d in await node.deliveries(member_id) if d.ce_id == ce_id and d.channel == "inapp"
        ]
        ids.append(inapp.delivery_id)
    return ids


async def test_a_connected_portal_receives_the_item_within_a_second_of_it_being_recorded(
    served: tuple[Any, Server],
) -> None:
    node, server = served
    member = await node.add_member(email=None, language="en")
    async with server.stream(as_member(node, member.member_id)) as portal:
        assert (await portal.next("unread")).data == {"unread": 0}
        await node.decide(member.member_id, EnrollmentWaitlisted)

        recording = time.monotonic()
        await node.dispatcher.dispatch_once()
        item = await portal.next("item")
        latency = time.monotonic() - recording

        assert latency < 1.0, f"{latency:.3f}s"
        [inbox] = await node.inbox(member.member_id)
        assert item.data["item_id"] == inbox.item_id
        assert (item.data["title"], item.data["body"]) == (inbox.title, inbox.body)
        assert item.data["title"].startswith("On the waiting list")
        assert item.id == str(inbox.seq) == str(item.data["position"])
        assert (await portal.next("unread")).data == {"unread": 1}


async def test_an_item_recorded_by_another_replica_arrives_by_polling_the_database(
    served: tuple[Any, Server], make_node: Any, smtp_sink: Any
) -> None:
    node, server = served
    # Another process of the service on the same database: its commits do not wake ours.
    replica = await make_node(database_url=node.settings.database_url, smtp_port=smtp_sink.port)
    member = await node.add_member(email=None)
    async with server.stream(as_member(node, member.member_id)) as portal:
        await portal.next("unread")
        await replica.decide(member.member_id)

        recording = time.monotonic()
        await replica.dispatcher.dispatch_once()
        item = await portal.next("item")

        assert time.monotonic() - recording < 1.0
        assert item.data["item_id"] == (await replica.inbox(member.member_id))[0].item_id


async def test_a_reconnect_with_last_event_id_gets_exactly_the_items_missed_meanwhile(
    served: tuple[Any, Server],
) -> None:
    node, server = served
    member = await node.add_member(email=None)
    headers = as_member(node, member.member_id)
    async with server.stream(headers) as portal:
        first = await notify(node, member.member_id, 2)
        seen = await portal.items(2)
    assert [e.data["item_id"] for e in seen] == first
    last_id = seen[-1].id
    assert last_id is not None

    missed = await notify(node, member.member_id, 3)  # while the portal was away
    async with server.stream({**headers, "Last-Event-ID": last_id}) as portal:
        replayed = await portal.items(3)
        assert [e.data["item_id"] for e in replayed] == missed
        assert (await portal.next("unread")).data == {"unread": 5}
        assert await portal.no_more_items()

        later = await notify(node, member.member_id)  # and live again after the replay
        assert [(await portal.next("item")).data["item_id"]] == later

    positions = [int(e.id or 0) for e in [*seen, *replayed]]
    assert positions == sorted(positions) and len(set(positions)) == 5


async def test_the_after_parameter_resumes_from_an_inbox_page_without_a_gap(
    served: tuple[Any, Server],
) -> None:
    node, server = served
    member = await node.add_member(email=None)
    headers = as_member(node, member.member_id)
    await notify(node, member.member_id, 2)
    async with httpx.AsyncClient(base_url=server.url) as client:
        page = (await client.get("/inbox", headers=headers)).json()
    newest = max(i["position"] for i in page["items"])

    later = await notify(node, member.member_id)  # between the page and the stream
    async with server.stream(headers, after=newest) as portal:
        assert [(await portal.next("item")).data["item_id"]] == later
        assert await portal.no_more_items()


async def test_a_stream_without_a_position_sends_only_new_items(
    served: tuple[Any, Server],
) -> None:
    node, server = served
    member = await node.add_member(email=None)
    await notify(node, member.member_id, 2)
    async with server.stream(as_member(node, member.member_id)) as portal:
        assert (await portal.next("unread")).data == {"unread": 2}
        assert await portal.no_more_items()
        new = await notify(node, member.member_id)
        assert [(await portal.next("item")).data["item_id"]] == new


async def test_another_members_items_never_appear_in_the_stream(
    served: tuple[Any, Server],
) -> None:
    node, server = served
    me = await node.add_member(email=None)
    other = await node.add_member(email=None)
    async with server.stream(as_member(node, me.member_id), after=0) as portal:
        theirs = await notify(node, other.member_id, 2)
        mine = await notify(node, me.member_id)
        got = await portal.next("item")
        assert got.data["item_id"] == mine[0]
        assert await portal.no_more_items()
    assert got.data["item_id"] not in theirs


async def test_a_staff_account_streams_its_own_needs_action_inbox(
    served: tuple[Any, Server],
) -> None:
    node, server = served
    recipient = staff_recipient_id("steel-rolling", "staff-steel-rolling")
    cadre = {"Authorization": f"Bearer {node.token(org='steel-rolling', roles=['cadre'])}"}
    async with server.stream(cadre, after=0) as portal:
        async with node.db.transaction() as session:
            await repository.insert_inbox_items(
                session,
                [
                    {
                        "item_id": "approval-1",
                        "member_id": recipient,
                        "event_type": "bigschool.enrollment.approval_needed.v1",
                        "title": "Approval needed",
                        "body": "A request waits for you.",
                        "created_at": node.clock.now(),
                        "read_at": None,
                    }
                ],
            )
        item = await portal.next("item")
    assert (item.data["item_id"], item.data["title"]) == ("approval-1", "Approval needed")


async def test_the_stream_needs_a_token_and_a_position_it_gave_out(
    served: tuple[Any, Server],
) -> None:
    node, server = served
    member = await node.add_member(email=None)
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/inbox/stream")).status_code == 401
        bad = {**as_member(node, member.member_id), "Last-Event-ID": "12; DROP"}
        response = await client.get("/inbox/stream", headers=bad)
        assert response.status_code == 422
        assert "last-event-id" in json.dumps(response.json()).lower()
        negative = await client.get(
            "/inbox/stream", headers=as_member(node, member.member_id), params={"after": -1}
        )
        assert negative.status_code == 422


async def test_reading_elsewhere_updates_the_unread_count_on_the_stream(
    served: tuple[Any, Server],
) -> None:
    node, server = served
    member = await node.add_member(email=None)
    headers = as_member(node, member.member_id)
    await notify(node, member.member_id, 3)
    async with server.stream(headers) as portal:
        assert (await portal.next("unread")).data == {"unread": 3}
        async with httpx.AsyncClient(base_url=server.url) as client:
            marked = await client.post("/inbox/read-all", headers=headers)
            assert marked.status_code == 200 and marked.json() == {"marked": 3}
            assert (await portal.next("unread")).data == {"unread": 0}
            unread = await client.get("/inbox/unread", headers=headers)
            assert unread.json() == {"unread": 0}
            again = await client.post("/inbox/read-all", headers=headers)
            assert again.json() == {"marked": 0}  # already read: nothing changes


async def test_the_stream_ends_when_the_client_goes_and_when_the_server_stops(
    served: tuple[Any, Server],
) -> None:
    node, server = served
    member = await node.add_member(email=None)
    headers = as_member(node, member.member_id)
    async with server.stream(headers) as portal:
        await portal.next("unread")
    # The client left: the server notices and its stream task ends (nothing lingers).
    async with server.stream(headers) as portal:
        await portal.next("unread")
        server.server.should_exit = True
        async with asyncio.timeout(5):
            await portal.ended.wait()


async def test_positions_are_consecutive_per_recipient_and_continue_across_transactions(
    served: tuple[Any, Server],
) -> None:
    node, _ = served

    def item(item_id: str, member_id: str) -> dict[str, Any]:
        return {
            "item_id": item_id,
            "member_id": member_id,
            "event_type": "t",
            "title": "t",
            "body": "b",
            "created_at": node.clock.now(),
            "read_at": None,
        }

    async with node.db.transaction() as session:
        await repository.insert_inbox_items(
            session, [item("a1", "a"), item("b1", "b"), item("a2", "a")]
        )
    async with node.db.transaction() as session:
        await repository.insert_inbox_items(session, [item("a3", "a"), item("a1", "a")])
    async with node.db.reading() as session:
        a = await repository.inbox_after(session, "a", after=0, limit=10)
        b = await repository.inbox_after(session, "b", after=0, limit=10)
    assert [(i.item_id, i.seq) for i in a] == [("a1", 1), ("a2", 2), ("a3", 3)]
    assert [(i.item_id, i.seq) for i in b] == [("b1", 1)]


async def test_the_migration_numbers_existing_items_and_gives_old_deliveries_their_org(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(command.upgrade, alembic_config(MIGRATIONS, url), "0002")
    db = Database(url)
    at = "2025-03-01 01:00:00"
    statements = [
        "INSERT INTO inbox_items VALUES ('b', 'm', 't', 'b', 'x', '2025-03-01 01:02:00', NULL)",
        "INSERT INTO inbox_items VALUES ('a', 'm', 't', 'a', 'x', '2025-03-01 01:01:00', NULL)",
        f"INSERT INTO recipients VALUES ('m', 'steel', 'M', NULL, NULL, 'zh', '{at}')",
        "INSERT INTO deliveries VALUES ('d', 'ce', 't', 'm', 'email', '{}', 'failed', 1, "
        f"'{at}', NULL, '{at}', NULL)",
    ]
    try:
        async with db.transaction() as session:
            for statement in statements:
                await session.execute(text(statement))
        await migrated(MIGRATIONS, url)
        async with db.transaction() as session:
            await repository.insert_inbox_items(
                session,
                [
                    {
                        "item_id": "c",
                        "member_id": "m",
                        "event_type": "t",
                        "title": "c",
                        "body": "x",
                        "created_at": datetime.now(UTC),
                        "read_at": None,
                    }
                ],
            )
        async with db.reading() as session:
            items = await repository.inbox_after(session, "m", after=0, limit=10)
            delivery = await repository.get_delivery(session, "d")
        assert [(i.item_id, i.seq) for i in items] == [("a", 1), ("b", 2), ("c", 3)]
        assert delivery is not None and delivery.home_org == "steel"
    finally:
        await db.dispose()
