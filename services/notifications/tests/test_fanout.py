# Chinese text takes full-width punctuation: correct here, not a look-alike typo.
# ruff: noqa: RUF001
"""Public notices to every member of a subtree: one fan-out job per notice, expanded in
batches into bulk-lane deliveries, exactly once across redeliveries and restarts; the single
lane claimed first."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select

from notifications.domain.deliveries import Channel
from notifications.models import FanoutJob, Recipient
from notifications.models.deliveries import LANE_BULK, LANE_SINGLE
from notifications.service.dispatching import claim_due
from notifications.service.fanout import FanoutWorker, expand_next, notice_ce_id
from notifications.templates import render
from shared.contracts.events import Nominee, NoticeEntry, NoticePublished
from shared.messaging.consumer import Outcome

OWNER = "steel"  # steel > steel-rolling, both hosted by n1 (conftest's demo tree)


def notice(notice_id: str | None = None, *, owner: str = OWNER, **fields: Any) -> NoticePublished:
    values: dict[str, Any] = {
        "notice_id": notice_id or str(uuid.uuid4()),
        "round_id": str(uuid.uuid4()),
        "scheme_id": str(uuid.uuid4()),
        "scheme_title": "Model Worker 2025",
        "owner_org": owner,
        "starts_at": "2025-03-01T01:00:00Z",
        # 16:00 UTC is midnight in the federation's time zone (Asia/Shanghai).
        "ends_at": "2025-03-08T16:00:00Z",
        "entries": [
            NoticeEntry(
                nomination_id=str(uuid.uuid4()),
                home_org="steel-rolling",
                nominees=[Nominee(member_id=str(uuid.uuid4()), display_name="Zhao Lei")],
                achievements="Rebuilt the rolling line's safety checks.",
            )
        ],
    }
    return NoticePublished(**{**values, **fields})


async def members_in(node: Any, org: str, count: int) -> list[str]:
    return [(await node.add_member(home_org=org)).member_id for _ in range(count)]


async def add_recipient_directly(node: Any, org: str) -> str:
    """A recipient row the members topic would never give this node (another node's org)."""
    member_id = str(uuid.uuid4())
    row = {
        "member_id": member_id,
        "home_org": org,
        "name": "Elsewhere",
        "email": "elsewhere@example.org",
        "phone": None,
        "language": "en",
        "updated_at": node.clock.now(),
    }
    async with node.db.transaction() as session:
        await session.execute(insert(Recipient), [row])
    return member_id


async def add_staff(node: Any, org: str, sub: str) -> str:
    """A staff contact of `org` in its cadres' directory; their recipient id."""
    token = node.token(org=org, roles=["cadre"])
    transport = httpx.ASGITransport(app=node.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as api:
        response = await api.put(
            f"/orgs/{org}/staff/{sub}",
            json={"name": "Li Ming", "email": "li.ming@example.org", "duties": ["approvals"]},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    return str(response.json()["recipient_id"])


async def expand_all(worker: FanoutWorker) -> list[int]:
    """Run the worker's batches until no job is unfinished; the recipients of each batch."""
    sizes = []
    while (expanded := await worker.expand_once()) is not None:
        sizes.append(expanded.recipients)
    return sizes


async def job_of(node: Any, notice_id: str) -> FanoutJob:
    async with node.db.sessions() as session:
        job = await session.get(FanoutJob, notice_id)
    assert job is not None
    return job


def told(deliveries: list[Any]) -> Counter[str]:
    return Counter(d.member_id for d in deliveries)


@pytest.fixture
async def small_batches(make_node: Any, smtp_sink: Any) -> Any:
    return await make_node(smtp_port=smtp_sink.port, fanout_batch_size=2)


async def test_a_notice_reaches_every_member_of_the_subtree_hosted_here_once_in_batches(
    small_batches: Any,
) -> None:
    node = small_batches
    inside = await members_in(node, "steel-rolling", 3) + await members_in(node, "steel", 2)
    above = await members_in(node, "fed", 1)  # the owner's parent: not in the subtree
    elsewhere = await add_recipient_directly(node, "mine-shaft")  # n2's org
    staff = await add_staff(node, "steel", "cadre-li")  # a contact for actions, not a member
    published = notice()
    part = node.record("notices", published)
    # The same record three times, and a second part of the same notice (its own ce_id).
    outcomes = [await node.consumers["notices"].process(part) for _ in range(3)]
    second_part = await node.feed("notices", published)

    assert outcomes == [Outcome.handled, Outcome.duplicate, Outcome.duplicate]
    assert second_part is Outcome.handled
    assert await expand_all(node.app.state.fanout) == [2, 2, 1]
    deliveries = await node.deliveries()
    assert told(deliveries) == {member: 2 for member in inside}
    assert not {above[0], elsewhere, staff} & set(told(deliveries))
    assert {(d.channel, d.lane) for d in deliveries} == {
        (Channel.email.value, LANE_BULK),
        (Channel.inapp.value, LANE_BULK),
    }
    assert {d.ce_id for d in deliveries} == {notice_ce_id(published.notice_id)}
    assert all("entries" not in d.data for d in deliveries)  # no nominee travels with them
    job = await job_of(node, published.notice_id)
    assert (job.status, job.recipients, job.deliveries, job.batches) == ("done", 5, 10, 3)


async def test_the_worker_stopped_halfway_resumes_without_telling_anyone_twice(
    small_batches: Any,
) -> None:
    node = small_batches
    inside = await members_in(node, "steel-rolling", 5)
    published = notice()
    assert await node.feed("notices", published) is Outcome.handled
    first = node.app.state.fanout
    assert (await first.expand_once()).recipients == 2
    # A crash in the middle of the next batch: its transaction never commits.
    with pytest.raises(RuntimeError):
        async with node.db.transaction() as session:
            await expand_next(session, node.ctx)
            raise RuntimeError("killed")

    restarted = FanoutWorker(node.db, node.ctx)
    assert await expand_all(restarted) == [2, 1]
    assert told(await node.deliveries()) == {member: 2 for member in inside}
    job = await job_of(node, published.notice_id)
    assert (job.recipients, job.deliveries, job.batches) == (5, 10, 3)


async def test_a_batch_planned_ahead_is_not_used_once_another_worker_went_past_it(
    small_batches: Any,
) -> None:
    node = small_batches
    inside = await members_in(node, "steel-rolling", 6)
    published = notice()
    assert await node.feed("notices", published) is Outcome.handled
    one, other = node.app.state.fanout, FanoutWorker(node.db, node.ctx)
    assert (await one.expand_once()).recipients == 2  # and plans members 3 and 4 ahead
    replica = await other.expand_once()  # a replica writes members 3 and 4
    assert replica is not None and replica.recipients == 2

    assert await expand_all(one) == [2, 0]  # members 5 and 6, not 3 and 4 again; then the end
    assert told(await node.deliveries()) == {member: 2 for member in inside}
    job = await job_of(node, published.notice_id)
    assert (job.status, job.recipients, job.deliveries, job.batches) == ("done", 6, 12, 3)


async def test_the_members_are_told_in_their_language_with_the_end_in_federation_time(
    node: Any, smtp_sink: Any
) -> None:
    zh = await node.add_member(name="王芳", email="wang@example.org", language="zh")
    en = await node.add_member(name="Li Lei", email="li@example.org", language="en")
    published = notice()
    await node.feed("notices", published)
    await expand_all(node.app.state.fanout)

    assert await node.dispatcher.dispatch_once() == 4
    [zh_item], [en_item] = await node.inbox(zh.member_id), await node.inbox(en.member_id)
    assert zh_item.title == "评选公示：Model Worker 2025"
    assert "公示期至 2025-03-09 00:00" in zh_item.body and "提出异议" in zh_item.body
    assert en_item.title == "Public notice: Model Worker 2025"
    assert "until 2025-03-09 00:00" in en_item.body and "objection" in en_item.body
    assert "Steel" in en_item.body  # the owner org by its name
    for item in (zh_item, en_item):
        assert "{" not in item.title + item.body
    assert sorted(m.subject for m in smtp_sink.messages) == [
        "Public notice: Model Worker 2025",
        "评选公示：Model Worker 2025",
    ]


def test_the_notice_template_renders_without_placeholders_in_both_languages() -> None:
    data = {"scheme_title": "S", "owner_org_name": "O", "notice_ends": "E", "notice_id": "N"}
    for language in ("zh", "en"):
        message = render(NoticePublished.ce_type, language, data, "Name")
        assert "{" not in message.subject + message.title + message.body
        assert "N" in message.body and "E" in message.body


async def test_a_notice_from_a_node_not_hosting_the_owner_is_refused(node: Any) -> None:
    published = notice(owner="mine")  # hosted by n2; the record says n1 wrote it
    assert await node.feed("notices", published) is Outcome.dead_lettered
    async with node.db.sessions() as session:
        assert (await session.execute(select(FanoutJob))).first() is None


async def test_a_notice_already_over_tells_nobody(node: Any) -> None:
    await members_in(node, "steel-rolling", 1)
    ended = notice(ends_at=node.clock.now() - timedelta(minutes=1))
    assert await node.feed("notices", ended) is Outcome.handled
    assert await expand_all(node.app.state.fanout) == []
    assert await node.deliveries() == []


async def test_single_lane_deliveries_are_claimed_before_the_bulk_ones(make_node: Any) -> None:
    node = await make_node(dispatch_bulk_share=0.2)
    await members_in(node, "steel-rolling", 20)
    await node.feed("notices", notice())
    await expand_all(node.app.state.fanout)
    node.clock.advance(60)  # the notice's 40 deliveries have waited longer than anything else
    offered = (await node.add_member()).member_id
    await node.decide(offered)  # two single-lane deliveries

    async with node.db.transaction() as session:
        claimed = await claim_due(session, node.ctx, 5)
    # The single lane first; what is left of the batch (at least its 20 % share) is the bulk's.
    assert [d.lane for d in claimed] == [LANE_SINGLE, LANE_SINGLE, LANE_BULK, LANE_BULK, LANE_BULK]
    assert {d.member_id for d in claimed[:2]} == {offered}


async def test_the_bulk_lane_keeps_its_share_while_single_messages_pile_up(
    make_node: Any,
) -> None:
    node = await make_node(dispatch_bulk_share=0.2)
    await members_in(node, "steel-rolling", 3)
    await node.feed("notices", notice())
    await expand_all(node.app.state.fanout)
    for member_id in await members_in(node, "steel", 5):
        await node.decide(member_id, home_org="steel")  # ten single-lane deliveries

    async with node.db.transaction() as session:
        first = await claim_due(session, node.ctx, 5)
    async with node.db.transaction() as session:
        bulk_done = await claim_due(session, node.ctx, 10)  # 6 single and 5 bulk left
    assert [d.lane for d in first] == [LANE_SINGLE] * 4 + [LANE_BULK]
    assert Counter(d.lane for d in bulk_done) == {LANE_SINGLE: 6, LANE_BULK: 4}


@pytest.fixture
async def api(node: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=node.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_the_fanout_progress_is_shown_to_the_owner_cadres_and_the_node_admin_only(
    node: Any, api: httpx.AsyncClient
) -> None:
    member = (await node.add_member()).member_id
    published = notice()
    await node.feed("notices", published)
    url = f"/notices/{published.notice_id}/fanout"

    def auth(org: str, roles: list[str], member_id: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {node.token(org=org, roles=roles, member_id=member_id)}"}

    before = await api.get(url, headers=auth(OWNER, ["cadre"]))
    await expand_all(node.app.state.fanout)
    after = await api.get(url, headers=auth("fed", ["admin"]))

    assert before.status_code == 200
    assert before.json()["status"] == "expanding" and before.json()["recipients"] == 0
    assert after.status_code == 200
    assert after.json() | {"updated_at": None, "finished_at": None, "created_at": None} == {
        "notice_id": published.notice_id,
        "owner_org": OWNER,
        "status": "done",
        "recipients": 1,
        "deliveries": 2,
        "batches": 1,
        "created_at": None,
        "updated_at": None,
        "finished_at": None,
    }
    for headers in (
        auth("steel-rolling", ["member"], member),
        auth("steel-rolling", ["cadre"]),  # a cadre below the owner org
        auth("mine", ["admin"]),  # an admin, not of this node's root org
    ):
        assert (await api.get(url, headers=headers)).status_code == 404
    missing = await api.get("/notices/nope/fanout", headers=auth("fed", ["admin"]))
    assert missing.status_code == 404
