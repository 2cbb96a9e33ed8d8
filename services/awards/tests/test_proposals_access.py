"""Who may do what with rationalization proposals: every endpoint against the author, another
member, cadres of the evaluating org, of the orgs above it (at this node and at another), of
another org at this node and at another node, and a reviewer — 404 for what the caller may
not see, 403 for what they see but may not change."""

from __future__ import annotations

from typing import Any

import pytest

from shared.contracts import topics
from shared.contracts.events import MemberRegistered
from shared.messaging.consumer import Outcome

NODE = "hzsteel"  # the node the app fixture runs; its root org is hzsteel
AUTHOR = "7c0b4a1e-2f3d-4e5f-8a9b-0c1d2e3f4a01"
OTHER = "7c0b4a1e-2f3d-4e5f-8a9b-0c1d2e3f4a02"
ROLLING = "hzsteel-rolling"  # the author's home org, which evaluates the proposal

# The evaluating org's cadre comes last: a step it is allowed changes the proposal.
CALLERS: dict[str, dict[str, Any]] = {
    "author": {"org": ROLLING, "roles": ["member"], "member_id": AUTHOR},
    "another member": {"org": ROLLING, "roles": ["member"], "member_id": OTHER},
    "enterprise cadre": {"org": "hzsteel", "roles": ["cadre"]},
    "superior cadre": {"org": "zj", "roles": ["cadre"]},
    "other-org cadre": {"org": "hzsteel-casting", "roles": ["cadre"]},
    "other-node cadre": {"org": "otherco", "roles": ["cadre"]},
    "reviewer": {"org": ROLLING, "roles": ["reviewer"]},
    "evaluating cadre": {"org": ROLLING, "roles": ["cadre"]},
}


def _expect(ok: int, *, author: int = 404, above: int | None = None, others: int = 404) -> dict:
    """`ok` for the evaluating org's cadre, `above` (default `ok`) for cadres above it."""
    above = ok if above is None else above
    return {
        "author": author,
        "another member": others,
        "enterprise cadre": above,
        "superior cadre": above,
        "other-org cadre": others,
        "other-node cadre": others,
        "reviewer": others,
        "evaluating cadre": ok,
    }


async def _submitted(client, bus, auth) -> str:
    for member_id in (AUTHOR, OTHER):
        event = MemberRegistered(member_id=member_id, home_org=ROLLING, name="陈刚")
        record, _ = bus.record(event, topics.members(NODE))
        assert await bus.deliver("members", record) is Outcome.handled
    body = {"title": "T", "problem": "P", "proposal": "Q", "expected_benefit": "B"}
    response = await client.post("/proposals", json=body, headers=auth(**CALLERS["author"]))
    assert response.status_code == 201
    return str(response.json()["proposal_id"])


async def _codes(client, auth, method: str, path: str, body: Any = None) -> dict[str, int]:
    codes = {}
    for name, claims in CALLERS.items():
        response = await client.request(method, path, json=body, headers=auth(**claims))
        codes[name] = response.status_code
    return codes


async def test_a_proposal_is_seen_by_its_author_and_cadres_of_the_org_and_above(
    client, bus, auth
) -> None:
    pid = await _submitted(client, bus, auth)

    codes = await _codes(client, auth, "GET", f"/proposals/{pid}")

    assert codes == _expect(200, author=200)


@pytest.mark.parametrize(
    ("step", "body", "ok"),
    [
        ("adopt", None, 200),
        ("reject", {"reasons": "too costly"}, 200),
        # Past the access check, the evaluating cadre meets the state machine (submitted).
        ("trial", {"note": "n"}, 409),
        ("assess", {"benefit_fen": 100, "note": "n"}, 409),
        ("reward", None, 409),
    ],
)
async def test_only_the_evaluating_orgs_cadres_take_steps(
    client, bus, auth, step, body, ok
) -> None:
    pid = await _submitted(client, bus, auth)

    codes = await _codes(client, auth, "POST", f"/proposals/{pid}/{step}", body)

    assert codes == _expect(ok, author=403, above=403)


async def test_a_cadre_who_wrote_the_proposal_may_not_evaluate_it(client, bus, auth) -> None:
    pid = await _submitted(client, bus, auth)
    author_as_cadre = auth(org=ROLLING, roles=["cadre", "member"], member_id=AUTHOR)

    response = await client.post(f"/proposals/{pid}/adopt", headers=author_as_cadre)

    assert response.status_code == 403


async def test_a_members_list_of_proposals_is_theirs_alone(client, bus, auth) -> None:
    await _submitted(client, bus, auth)

    codes = await _codes(client, auth, "GET", f"/members/{AUTHOR}/proposals")

    assert codes == _expect(404, author=200)


@pytest.mark.parametrize(
    "path",
    [
        f"/orgs/{ROLLING}/proposals",
        f"/orgs/{ROLLING}/proposal-stats",
        f"/orgs/{ROLLING}/proposal-tiers",
    ],
)
async def test_an_orgs_proposals_figures_and_tiers_are_for_cadres_of_it_and_above(
    client, bus, auth, path
) -> None:
    await _submitted(client, bus, auth)

    codes = await _codes(client, auth, "GET", path)

    assert codes == _expect(200)


async def test_the_org_list_shows_the_proposal_to_those_who_may_see_it(client, bus, auth) -> None:
    pid = await _submitted(client, bus, auth)

    response = await client.get(
        f"/orgs/{ROLLING}/proposals", headers=auth(**CALLERS["enterprise cadre"])
    )

    assert [p["proposal_id"] for p in response.json()["items"]] == [pid]


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_tier_tables_are_set_by_cadres_of_the_org_and_above_at_this_node(
    client, bus, auth, method
) -> None:
    await _submitted(client, bus, auth)
    body = {"tiers": [{"min_benefit_fen": 0, "reward_fen": 100}]} if method == "PUT" else None

    codes = await _codes(client, auth, method, f"/orgs/{ROLLING}/proposal-tiers", body)

    expected = _expect(200) | {"superior cadre": 403}  # zj is hosted by another node
    assert codes == expected


@pytest.mark.parametrize(
    "claims",
    [
        {"org": ROLLING, "roles": ["cadre"]},  # no member_id: staff do not submit
        {"org": ROLLING, "roles": ["reviewer"]},
    ],
)
async def test_only_a_member_submits(client, bus, auth, claims) -> None:
    body = {"title": "T", "problem": "P", "proposal": "Q", "expected_benefit": "B"}

    response = await client.post("/proposals", json=body, headers=auth(**claims))

    assert response.status_code == 403


async def test_an_unknown_proposal_is_404_for_everyone(client, bus, auth) -> None:
    await _submitted(client, bus, auth)

    codes = await _codes(client, auth, "GET", "/proposals/no-such-proposal")

    assert set(codes.values()) == {404}
