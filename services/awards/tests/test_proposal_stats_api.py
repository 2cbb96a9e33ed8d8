"""Proposal figures per org and month over HTTP — proposals per member, participation and
adoption rates — with groups of fewer than five people suppressed, and the year's figures in
the awards roll-up."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from shared.contracts import topics
from shared.contracts.events import MemberRegistered
from shared.messaging.consumer import Outcome

NODE = "hzsteel"  # the node the app fixture runs
ROLLING = "hzsteel-rolling"
MARCH = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)
# 01:00 on 1 April in Shanghai: April's, though still March in UTC.
APRIL_FIRST = datetime(2025, 3, 31, 17, 0, tzinfo=UTC)


async def _register(bus, home_org: str) -> str:
    member_id = str(uuid.uuid4())
    event = MemberRegistered(member_id=member_id, home_org=home_org, name="王芳")
    record, _ = bus.record(event, topics.members(NODE))
    assert await bus.deliver("members", record) is Outcome.handled
    return member_id


async def _submit(app, client, auth, member_id: str, at: datetime) -> str:
    app.state.context.clock.at = at
    response = await client.post(
        "/proposals",
        json={"title": "T", "problem": "P", "proposal": "Q", "expected_benefit": "B"},
        headers=auth(org=ROLLING, roles=["member"], member_id=member_id),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["proposal_id"])


async def _evaluate(client, auth, ids: list[str], adopt: int) -> None:
    cadre = auth(org=ROLLING, roles=["cadre"])
    for n, pid in enumerate(ids):
        if n < adopt:
            response = await client.post(f"/proposals/{pid}/adopt", headers=cadre)
        else:
            response = await client.post(
                f"/proposals/{pid}/reject", json={"reasons": "not now"}, headers=cadre
            )
        assert response.status_code == 200


async def _busy_spring(app, client, bus, auth) -> None:
    """Rolling: 10 members; casting: 3. In March five rolling members submit six proposals,
    three of which are adopted and two rejected that month; in April two others submit."""
    rolling = [await _register(bus, ROLLING) for _ in range(10)]
    for _ in range(3):
        await _register(bus, "hzsteel-casting")
    march = [await _submit(app, client, auth, m, MARCH) for m in rolling[:5]]
    await _submit(app, client, auth, rolling[0], MARCH)
    await _evaluate(client, auth, march, adopt=3)
    await _submit(app, client, auth, rolling[5], APRIL_FIRST)
    await _submit(app, client, auth, rolling[6], datetime(2025, 4, 20, tzinfo=UTC))


async def _stats(client, auth, org: str, as_org: str = "hzsteel", year: int = 2025) -> dict:
    response = await client.get(
        f"/orgs/{org}/proposal-stats",
        params={"year": year},
        headers=auth(org=as_org, roles=["cadre"]),
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_monthly_figures_show_participation_and_adoption(app, client, bus, auth) -> None:
    await _busy_spring(app, client, bus, auth)

    body = await _stats(client, auth, "hzsteel")

    assert (body["suppressed"], body["members"], body["min_group_size"]) == (False, 13, 5)
    months = {m["month"]: m for m in body["months"]}
    assert sorted(months) == list(range(1, 13))
    assert months[3]["participation"] == {
        "suppressed": False,
        "submitted": 6,
        "authors": 5,
        "per_member": round(6 / 13, 4),
        "rate": round(5 / 13, 4),
    }
    assert months[3]["adoption"] == {"suppressed": False, "evaluated": 5, "adopted": 3, "rate": 0.6}
    assert body["total"]["participation"]["submitted"] == 8
    assert body["total"]["participation"]["authors"] == 7


async def test_a_month_of_fewer_than_five_authors_is_suppressed(app, client, bus, auth) -> None:
    await _busy_spring(app, client, bus, auth)

    months = {m["month"]: m for m in (await _stats(client, auth, "hzsteel"))["months"]}

    # April: two authors (one of them at 01:00 on 1 April, Shanghai time).
    assert months[4]["participation"] == {"suppressed": True}
    assert months[4]["adoption"] == {"suppressed": True}
    assert months[1]["participation"] == {"suppressed": True}


async def test_a_subtree_of_fewer_than_five_members_shows_no_figures(
    app, client, bus, auth
) -> None:
    await _busy_spring(app, client, bus, auth)

    body = await _stats(client, auth, "hzsteel-casting")

    assert body["suppressed"] is True
    assert "members" not in body
    assert body["total"] == {
        "participation": {"suppressed": True},
        "adoption": {"suppressed": True},
    }


async def test_another_year_counts_nothing(app, client, bus, auth) -> None:
    await _busy_spring(app, client, bus, auth)

    body = await _stats(client, auth, "hzsteel", year=2024)

    assert body["members"] == 13
    assert body["total"]["participation"] == {"suppressed": True}


async def test_the_awards_roll_up_carries_the_years_proposal_figures(
    app, client, bus, auth
) -> None:
    await _busy_spring(app, client, bus, auth)

    def summary(org: str):
        return client.get(
            "/facts/summary",
            params={"org": org, "year": 2025},
            headers=auth(org="zj", roles=["cadre"]),
        )

    enterprise = (await summary("hzsteel")).json()
    casting = (await summary("hzsteel-casting")).json()

    assert enterprise["proposals"]["participation"]["submitted"] == 8
    assert enterprise["proposals"]["adoption"] == {
        "suppressed": False,
        "evaluated": 5,
        "adopted": 3,
        "rate": 0.6,
    }
    assert casting["proposals"]["participation"] == {"suppressed": True}
