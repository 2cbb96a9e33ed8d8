"""`GET /orgs/{org}/members`: the members a cadre may pick (to reward on the spot), found by
words of the name or the start of the id, within the org's subtree at this node; nobody
outside the org's cadres (and those above) learns who they are."""

from __future__ import annotations

from shared.contracts import topics
from shared.contracts.events import MemberLeft, MemberRegistered
from shared.messaging.consumer import Outcome

NODE = "hzsteel"  # the node the app fixture runs
ROLLING = [
    ("0a000000-0000-4000-8000-000000000001", "王芳"),
    ("0a000000-0000-4000-8000-000000000002", "Li Lei"),
    ("0a000000-0000-4000-8000-000000000003", "王小明"),
]
CASTING = ("0c000000-0000-4000-8000-000000000001", "王强")


async def _members(bus) -> None:
    people = [(m, n, "hzsteel-rolling") for m, n in ROLLING] + [(*CASTING, "hzsteel-casting")]
    for member_id, name, home in people:
        event = MemberRegistered(member_id=member_id, home_org=home, name=name)
        record, _ = bus.record(event, topics.members(NODE))
        assert await bus.deliver("members", record) is Outcome.handled


async def test_a_grassroots_cadre_finds_their_members_by_words_of_the_name(
    client, bus, auth
) -> None:
    await _members(bus)
    cadre = auth(org="hzsteel-rolling", roles=["cadre"])
    found = await client.get("/orgs/hzsteel-rolling/members?q=王", headers=cadre)
    assert found.status_code == 200
    assert [m["display_name"] for m in found.json()["items"]] == ["王芳", "王小明"]
    assert found.json()["items"][0] == {
        "member_id": ROLLING[0][0],
        "home_org": "hzsteel-rolling",
        "display_name": "王芳",
    }
    by_case = await client.get("/orgs/hzsteel-rolling/members?q=li lei", headers=cadre)
    assert [m["member_id"] for m in by_case.json()["items"]] == [ROLLING[1][0]]
    by_id = await client.get(f"/orgs/hzsteel-rolling/members?q={ROLLING[2][0][:36]}", headers=cadre)
    assert [m["display_name"] for m in by_id.json()["items"]] == ["王小明"]


async def test_an_enterprise_cadre_finds_members_of_every_org_below_in_pages(
    client, bus, auth
) -> None:
    await _members(bus)
    cadre = auth(org="hzsteel", roles=["cadre"])
    first = await client.get("/orgs/hzsteel/members?q=王&limit=2", headers=cadre)
    assert [m["display_name"] for m in first.json()["items"]] == ["王芳", "王小明"]
    cursor = first.json()["next_cursor"]
    rest = await client.get(f"/orgs/hzsteel/members?q=王&limit=2&cursor={cursor}", headers=cadre)
    assert rest.json() == {
        "items": [{"member_id": CASTING[0], "home_org": "hzsteel-casting", "display_name": "王强"}],
        "next_cursor": None,
    }


async def test_wildcards_are_taken_literally(client, bus, auth) -> None:
    await _members(bus)
    cadre = auth(org="hzsteel-rolling", roles=["cadre"])
    for q in ("%", "_"):
        found = await client.get("/orgs/hzsteel-rolling/members", params={"q": q}, headers=cadre)
        assert found.status_code == 200 and found.json()["items"] == []


async def test_a_member_who_left_is_no_longer_listed(client, bus, auth) -> None:
    await _members(bus)
    member_id, _ = ROLLING[0]
    left = MemberLeft(
        member_id=member_id,
        home_org="hzsteel-rolling",
        left_at="2026-01-05T00:00:00Z",
        reason="left",
    )
    record, _ = bus.record(left, topics.members(NODE))
    assert await bus.deliver("members", record) is Outcome.handled
    cadre = auth(org="hzsteel-rolling", roles=["cadre"])
    found = await client.get("/orgs/hzsteel-rolling/members?q=王", headers=cadre)
    assert [m["display_name"] for m in found.json()["items"]] == ["王小明"]


async def test_members_cadres_of_other_orgs_and_other_nodes_get_404(client, bus, auth) -> None:
    await _members(bus)
    callers = [
        {"org": "hzsteel-rolling", "roles": ["member"], "member_id": ROLLING[0][0]},
        {"org": "hzsteel-casting", "roles": ["cadre"]},
        {"org": "otherco", "roles": ["cadre"]},
        {"org": "hzsteel", "roles": ["reviewer"]},
    ]
    for claims in callers:
        answer = await client.get("/orgs/hzsteel-rolling/members", headers=auth(**claims))
        assert answer.status_code == 404, claims
        assert "王芳" not in answer.text
