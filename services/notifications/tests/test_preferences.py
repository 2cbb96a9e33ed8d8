"""Preferences: a member's channels per kind, language, time zone and quiet hours, over their
org's policy (the nearest org up the tree with one), over the node's defaults.

The demo tree (conftest): `fed` > `steel` > `steel-rolling`, all hosted by n1; the clock starts
at 2025-03-01 01:00 UTC, 09:00 in Shanghai.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from deploy.local.smtp import SmtpSink
from notifications.domain.timing import QuietHours, next_digest, quiet_until
from notifications.service.preferences import allowed_channels_of_many
from shared.contracts.base import Event
from shared.contracts.events import EnrollmentConfirmed, EnrollmentOffered
from shared.timezones import zone

# The conftest's `Node` (a notifications service on SQLite, consumers fed by hand); conftest
# modules are not importable under --import-mode=importlib.
Node = Any
START = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)  # the conftest clock's start
HOME = "steel-rolling"
TITLE = "Safe crane operation"


@pytest.fixture
async def api(node: Node) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=node.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def as_member(node: Node, member_id: str, org: str = HOME) -> dict[str, str]:
    token = node.token(org=org, roles=["member"], member_id=member_id)
    return {"Authorization": f"Bearer {token}"}


def as_staff(node: Node, org: str, role: str = "cadre") -> dict[str, str]:
    return {"Authorization": f"Bearer {node.token(org=org, roles=[role])}"}


def offered(member_id: str) -> Event:
    return EnrollmentOffered(
        enrollment_id=str(uuid.uuid4()),
        programme_id="prog-crane-7",
        member_id=member_id,
        owner_org="steel",
        home_org=HOME,
        sequence=4,
        offered_at=START,
        offer_expires_at=START + timedelta(days=2),
        programme_title=TITLE,
    )


async def set_preferences(
    api: httpx.AsyncClient, node: Node, member_id: str, **body: Any
) -> dict[str, Any]:
    response = await api.put("/preferences/me", json=body, headers=as_member(node, member_id))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def set_policy(api: httpx.AsyncClient, node: Node, org: str, **body: Any) -> None:
    response = await api.put(
        f"/orgs/{org}/notification-policy", json=body, headers=as_staff(node, org)
    )
    assert response.status_code == 200, response.text


def mails_to(sink: SmtpSink, address: str) -> list[Any]:
    return [m for m in sink.messages if address in m.rcpt_tos]


# -- quiet hours ----------------------------------------------------------------------------------
async def test_quiet_hours_defer_an_email_to_the_end_of_the_window_and_it_is_sent_then(
    node: Node, api: httpx.AsyncClient, smtp_sink: SmtpSink
) -> None:
    member = await node.add_member(email="quiet@example.org")
    # 09:00 in Shanghai, inside a window that crossed midnight; it ends at 10:00 (02:00 UTC).
    await set_preferences(
        api, node, member.member_id, time_zone="Asia/Shanghai", quiet_hours="20:00-10:00"
    )
    await node.decide(member.member_id)

    email = await node.delivery(member.member_id, "email")
    assert email.status == "pending"
    assert email.next_attempt_at == datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
    await node.dispatcher.dispatch_once()
    assert len(await node.inbox(member.member_id)) == 1  # in-app is silent: at once
    node.clock.advance(59 * 60 + 59)  # 09:59:59
    await node.dispatcher.dispatch_once()
    assert mails_to(smtp_sink, "quiet@example.org") == []

    node.clock.advance(1)  # 10:00 in Shanghai
    await node.dispatcher.dispatch_once()
    mails = mails_to(smtp_sink, "quiet@example.org")
    assert [m.subject for m in mails] == [f"报名成功：{TITLE}"]  # noqa: RUF001 (full-width colon)
    assert (await node.delivery(member.member_id, "email")).status == "sent"


async def test_a_critical_offer_passes_quiet_hours(
    node: Node, api: httpx.AsyncClient, smtp_sink: SmtpSink
) -> None:
    member = await node.add_member(email="offer@example.org")
    await set_preferences(api, node, member.member_id, quiet_hours="00:00-23:59")
    assert await node.feed("enrollment_events", offered(member.member_id))

    await node.dispatcher.dispatch_once()

    assert len(mails_to(smtp_sink, "offer@example.org")) == 1
    assert (await node.delivery(member.member_id, "email")).sent_at == START


async def test_an_org_policy_quiet_hours_apply_in_the_org_time_zone(
    node: Node, api: httpx.AsyncClient
) -> None:
    member = await node.add_member()
    # 01:00 UTC is 20:00 the day before in New York: inside 19:00-07:00, which ends at 12:00 UTC.
    await set_policy(api, node, "steel", time_zone="America/New_York", quiet_hours="19:00-07:00")
    await node.decide(member.member_id)
    email = await node.delivery(member.member_id, "email")
    assert email.next_attempt_at == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_a_window_ending_in_a_skipped_hour_ends_by_the_offset_before_the_change() -> None:
    new_york = zone("America/New_York")
    window = QuietHours.parse("01:00-02:30")  # 2025-03-09: 02:00 EST jumps to 03:00 EDT
    now = datetime(2025, 3, 9, 6, 15, tzinfo=UTC)  # 01:15 EST
    end = quiet_until(now, window, new_york)
    assert end == datetime(2025, 3, 9, 7, 30, tzinfo=UTC)  # 03:30 EDT, never before now


def test_a_window_ending_in_a_repeated_hour_ends_at_the_occurrence_still_ahead() -> None:
    new_york = zone("America/New_York")
    window = QuietHours.parse("00:00-01:30")  # 2025-11-02: 01:00-02:00 happens twice
    second_pass = datetime(2025, 11, 2, 6, 15, tzinfo=UTC)  # 01:15 EST, the second time
    assert quiet_until(second_pass, window, new_york) == datetime(2025, 11, 2, 6, 30, tzinfo=UTC)
    outside = datetime(2025, 11, 2, 5, 45, tzinfo=UTC)  # 01:45 EDT, the first time
    assert quiet_until(outside, window, new_york) is None


def test_the_digest_moment_is_the_next_local_hour_strictly_ahead() -> None:
    shanghai = zone("Asia/Shanghai")
    assert next_digest(START, 20, shanghai) == datetime(2025, 3, 1, 12, tzinfo=UTC)
    assert next_digest(START, 9, shanghai) == datetime(2025, 3, 2, 1, tzinfo=UTC)
    assert next_digest(START, 9, shanghai).astimezone(shanghai).date() == date(2025, 3, 2)


# -- channels -------------------------------------------------------------------------------------
async def test_a_member_turning_email_off_stops_emails_of_that_kind_but_not_of_a_required_kind(
    node: Node, api: httpx.AsyncClient
) -> None:
    await set_policy(api, node, "steel", required_kinds=["offers"])
    member = await node.add_member()
    await set_preferences(
        api, node, member.member_id, channels={"enrollment": ["inapp"], "offers": []}
    )

    await node.decide(member.member_id)
    assert await node.feed("enrollment_events", offered(member.member_id))

    by_type: dict[str, set[str]] = {}
    for d in await node.deliveries(member.member_id):
        by_type.setdefault(d.event_type, set()).add(d.channel)
    assert by_type == {
        EnrollmentConfirmed.ce_type: {"inapp"},
        EnrollmentOffered.ce_type: {"email", "inapp"},  # the org's channels stay on
    }
    kinds = (await api.get("/preferences/kinds", headers=as_member(node, member.member_id))).json()
    offers = next(k for k in kinds["kinds"] if k["kind"] == "offers")
    assert offers == {
        "kind": "offers",
        "priority": "critical",
        "required": True,
        "channels": ["inapp", "email"],
    }


async def test_org_defaults_apply_to_a_member_without_preferences(
    node: Node, api: httpx.AsyncClient
) -> None:
    await set_policy(api, node, "steel", channels={"enrollment": ["inapp", "sms"]})
    member = await node.add_member()

    await node.decide(member.member_id)

    channels = {d.channel for d in await node.deliveries(member.member_id)}
    assert channels == {"inapp", "sms"}
    mine = (await api.get("/preferences/me", headers=as_member(node, member.member_id))).json()
    assert mine["effective"]["policy_org"] == "steel"  # the nearest ancestor with a policy
    assert mine["effective"]["channels"]["enrollment"] == ["inapp", "sms"]
    assert mine["effective"]["channels"]["learning"] == ["inapp", "email"]  # node defaults
    assert mine["effective"]["time_zone"] == "Asia/Shanghai"


async def test_an_org_policy_of_its_own_replaces_its_ancestors(
    node: Node, api: httpx.AsyncClient
) -> None:
    await set_policy(api, node, "fed", channels={"enrollment": ["sms"]})
    await set_policy(api, node, HOME, channels={"enrollment": ["email"]})
    policy = await api.get(f"/orgs/{HOME}/notification-policy", headers=as_staff(node, HOME))
    assert policy.json()["source"] == HOME
    assert policy.json()["channels"]["enrollment"] == ["email"]
    dropped = await api.delete(f"/orgs/{HOME}/notification-policy", headers=as_staff(node, HOME))
    assert dropped.status_code == 204
    policy = await api.get(f"/orgs/{HOME}/notification-policy", headers=as_staff(node, HOME))
    assert (policy.json()["source"], policy.json()["channels"]["enrollment"]) == ("fed", ["sms"])


async def test_channels_of_a_batch_are_read_in_one_query_per_thousand_members(
    node: Node, api: httpx.AsyncClient
) -> None:
    member = await node.add_member()
    await set_preferences(api, node, member.member_id, channels={"enrollment": ["inapp"]})
    batch = [(member.member_id, HOME)] + [(str(uuid.uuid4()), HOME) for _ in range(1499)]
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = node.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with node.db.reading() as session:
            allowed = await allowed_channels_of_many(
                session, node.ctx, batch, EnrollmentConfirmed.ce_type
            )
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert allowed[member.member_id] == ["inapp"]
    assert allowed[batch[1][0]] == ["inapp", "email"]
    assert sum("member_preferences" in s for s in statements) == 2  # 1,500 ids: two chunks
    assert len(statements) <= 4  # and the org policies of the one home org


# -- language -------------------------------------------------------------------------------------
async def test_a_preferred_language_overrides_the_member_records_language(
    node: Node, api: httpx.AsyncClient, smtp_sink: SmtpSink
) -> None:
    member = await node.add_member(email="lang@example.org", language="zh")
    mine = await set_preferences(api, node, member.member_id, language="en")
    assert mine["effective"]["language"] == "en"

    await node.decide(member.member_id)
    await node.dispatcher.dispatch_once()

    [mail] = mails_to(smtp_sink, "lang@example.org")
    assert mail.subject == f"Enrollment confirmed: {TITLE}"
    [item] = await node.inbox(member.member_id)
    assert item.title == f"Enrollment confirmed: {TITLE}"


# -- bad input and access -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channels": {"gossip": ["email"]}}, "channels.gossip"),
        ({"channels": {"enrollment": ["pigeon"]}}, "channels.enrollment.0"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone"),
        ({"digest_hour": 25}, "digest_hour"),
        ({"digest_hour": "noon"}, "digest_hour"),
        ({"quiet_hours": "22:00-22:00"}, "quiet_hours"),
        ({"quiet_hours": "late"}, "quiet_hours"),
        ({"language": "fr"}, "language"),
        ({"lang": "en"}, "lang"),
    ],
)
async def test_bad_preferences_are_refused_naming_the_field(
    node: Node, api: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    member = await node.add_member()
    response = await api.put(
        "/preferences/me", json=body, headers=as_member(node, member.member_id)
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]
    mine = await api.get("/preferences/me", headers=as_member(node, member.member_id))
    assert mine.json()["channels"] == {} and mine.json()["time_zone"] is None  # nothing saved


async def test_a_policy_requiring_an_unknown_kind_is_refused(
    node: Node, api: httpx.AsyncClient
) -> None:
    response = await api.put(
        "/orgs/steel/notification-policy",
        json={"required_kinds": ["gossip"]},
        headers=as_staff(node, "steel"),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "required_kinds.gossip"


@pytest.mark.parametrize(
    ("org", "roles"),
    [
        ("steel", ["member"]),  # a member of the org
        (HOME, ["cadre"]),  # a cadre of a sub-org
        ("mine", ["cadre"]),  # a cadre of another org
        ("steel", ["reviewer"]),
    ],
)
async def test_another_orgs_policy_is_forbidden(
    node: Node, api: httpx.AsyncClient, org: str, roles: list[str]
) -> None:
    headers = {"Authorization": f"Bearer {node.token(org=org, roles=roles, member_id=None)}"}
    if roles == ["member"]:
        headers = as_member(node, str(uuid.uuid4()), org)
    assert (await api.get("/orgs/steel/notification-policy", headers=headers)).status_code == 403
    put = await api.put("/orgs/steel/notification-policy", json={}, headers=headers)
    assert put.status_code == 403


async def test_the_node_admin_manages_any_orgs_policy(node: Node, api: httpx.AsyncClient) -> None:
    admin = as_staff(node, "fed", role="admin")
    put = await api.put(f"/orgs/{HOME}/notification-policy", json={"digest_hour": 7}, headers=admin)
    assert put.status_code == 200 and put.json()["digest_hour"] == 7
    unknown = await api.get("/orgs/nowhere/notification-policy", headers=admin)
    assert unknown.status_code == 404


async def test_a_staff_account_has_preferences_of_its_own(
    node: Node, api: httpx.AsyncClient
) -> None:
    cadre = as_staff(node, "steel")
    put = await api.put("/preferences/me", json={"language": "en"}, headers=cadre)
    assert put.status_code == 200
    mine = (await api.get("/preferences/me", headers=cadre)).json()
    assert (mine["language"], mine["home_org"]) == ("en", "steel")
