"""Who may decide, publish, read the results and see a stipend, at the scheme owner's node
(hzsteel; the nominee is at hzsteel-rolling): the owner's cadres act; those who may see the
nomination or the round but not act get 403; anyone else 404."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

MEMBER = "5b1f8f0e-3c33-4f0a-8a51-7c1c2d9e1a02"
STIPEND = {"yearly_fen": 200_000, "years": 3}
DECISION = {"granted": True, "reasons": "Cut the scrap rate by a third."}

# name: (token claims, POST decision, GET stipend, POST publish, GET results)
MATRIX: dict[str, tuple[dict[str, Any], int, int, int, int]] = {
    "owner cadre": ({"org": "hzsteel", "roles": ["cadre"]}, 200, 200, 200, 200),
    "home org's cadre": ({"org": "hzsteel-rolling", "roles": ["cadre"]}, 403, 200, 403, 403),
    "the nominee": (
        {"org": "hzsteel-rolling", "roles": ["member"], "member_id": MEMBER},
        403,
        200,
        403,
        403,
    ),
    "superior cadre": ({"org": "zj", "roles": ["cadre"]}, 403, 200, 404, 404),
    "reviewer of the panel": (
        {"org": "zj", "roles": ["reviewer"], "sub": "rev-a"},
        403,
        200,
        403,
        200,
    ),
    "veto officer": (
        {"org": "hzsteel", "roles": ["reviewer"], "sub": "safety"},
        403,
        200,
        403,
        200,
    ),
    "sister org's cadre": ({"org": "hzsteel-casting", "roles": ["cadre"]}, 404, 404, 403, 403),
    "other-org cadre": ({"org": "otherco", "roles": ["cadre"]}, 404, 404, 404, 404),
    "reviewer off the panel": (
        {"org": "zj", "roles": ["reviewer"], "sub": "rev-z"},
        404,
        404,
        404,
        404,
    ),
    "another member": (
        {"org": "hzsteel-rolling", "roles": ["member"], "member_id": "m-other"},
        404,
        404,
        403,
        403,
    ),
}


async def _published_with_stipend(app: FastAPI, client, auth, award_rows) -> tuple[str, str]:
    """A granted and published nomination of MEMBER whose title carries a stipend."""
    staff = (("rev-a", "reviewer"), ("safety", "veto"))
    scheme_id, round_id = await award_rows.scheme(stipend=STIPEND, staff=staff)
    nomination_id, _ = await award_rows.nomination(scheme_id, round_id, member_id=MEMBER)
    owner = auth(org="hzsteel", roles=["cadre"])
    decided = await client.post(
        f"/nominations/{nomination_id}/decision", json=DECISION, headers=owner
    )
    assert decided.status_code == 200, decided.text
    assert (await client.post(f"/rounds/{round_id}/publish", headers=owner)).status_code == 200
    return nomination_id, round_id


@pytest.mark.parametrize("who", list(MATRIX))
async def test_each_caller_gets_what_their_place_allows(
    who: str, app, client, auth, award_rows
) -> None:
    claims, decide, stipend, publish, results = MATRIX[who]
    nomination_id, round_id = await _published_with_stipend(app, client, auth, award_rows)
    # A second round of the same kind, closed and undecided, for the decision and publication.
    scheme_id, open_round = await award_rows.scheme(
        staff=(("rev-a", "reviewer"), ("safety", "veto"))
    )
    pending, _ = await award_rows.nomination(scheme_id, open_round, member_id=MEMBER)
    headers = auth(**claims)

    answers = (
        await client.post(f"/nominations/{pending}/decision", json=DECISION, headers=headers),
        await client.get(f"/nominations/{nomination_id}/stipend", headers=headers),
        await client.post(f"/rounds/{round_id}/publish", headers=headers),
        await client.get(f"/rounds/{round_id}/results", headers=headers),
    )

    got = tuple(a.status_code for a in answers)
    # The owner's second publication of the same round is refused as published already.
    want = (decide, stipend, 409 if publish == 200 else publish, results)
    assert got == want, [a.text for a in answers]
