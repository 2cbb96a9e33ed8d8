"""Who may do what with schemes, rounds and nominations, endpoint by endpoint: the member,
the grassroots cadre, the enterprise cadre, the superior (owner) cadre, a reviewer, a veto
department's officer and another org's cadre — 404 for what they may not see, 403 for what
they may see but not change. The scheme belongs to zj (node zj); the nominee to
hzsteel-rolling (node hzsteel), endorsed by hzsteel."""

from __future__ import annotations

from typing import Any

import pytest

HOME = "hzsteel-rolling"


@pytest.fixture
async def case(federation, at, kit) -> dict[str, Any]:
    """A scheme, an open round, and one nomination waiting for the enterprise."""
    scheme_id, round_id = await kit.scheme_and_round()
    nominee = await kit.member()
    filed = await kit.file(scheme_id, round_id, nominee)
    await federation.flush()
    return {
        "scheme": scheme_id,
        "round": round_id,
        "nominee": nominee,
        "nomination": filed.json()["nomination_id"],
    }


def callers(at, nominee: str) -> dict[str, dict[str, str]]:
    """Every kind of caller, with a token for the node they would call."""
    return {
        "member@hzsteel": at("hzsteel", HOME, "member", member_id=nominee),
        "other member@hzsteel": at("hzsteel", HOME, "member", member_id="m-not-nominated"),
        "grassroots cadre@hzsteel": at("hzsteel", HOME, "cadre"),
        "enterprise cadre@hzsteel": at("hzsteel", "hzsteel", "cadre"),
        "sibling cadre@hzsteel": at("hzsteel", "hzsteel-casting", "cadre"),
        "superior cadre@zj": at("zj", "zj", "cadre"),
        "enterprise cadre@zj": at("zj", "hzsteel", "cadre"),
        "member@zj": at("zj", HOME, "member", member_id=nominee),
        "reviewer@zj": at("zj", "zj", "reviewer", sub="rev-a"),
        "officer@zj": at("zj", "zj", "reviewer", sub="di-officer"),
        "other-org cadre@oc": at("oc", "otherco", "cadre"),
    }


def node_of(caller: str) -> str:
    return caller.rsplit("@", 1)[1]


# (caller, expected status) for reading a nomination at the caller's node.
READ_NOMINATION = {
    "member@hzsteel": 200,
    "other member@hzsteel": 404,
    "grassroots cadre@hzsteel": 200,
    "enterprise cadre@hzsteel": 200,
    "sibling cadre@hzsteel": 404,
    "superior cadre@zj": 200,
    "reviewer@zj": 200,
    "officer@zj": 200,
    "other-org cadre@oc": 404,
}


async def test_who_may_read_a_nomination_and_its_trail(federation, at, case) -> None:
    for caller, expected in READ_NOMINATION.items():
        headers = callers(at, case["nominee"])[caller]
        client = federation[node_of(caller)].client
        for path in ("", "/trail"):
            got = await client.get(f"/nominations/{case['nomination']}{path}", headers=headers)
            assert got.status_code == expected, (caller, path, got.text)


ENDORSE = {
    "member@hzsteel": 403,
    "other member@hzsteel": 404,
    "grassroots cadre@hzsteel": 403,
    "sibling cadre@hzsteel": 404,
    "enterprise cadre@hzsteel": 200,  # last: it moves the nomination on
}


async def test_only_the_endorsing_orgs_cadre_endorses(federation, at, case) -> None:
    client = federation["hzsteel"].client
    for caller, expected in ENDORSE.items():
        headers = callers(at, case["nominee"])[caller]
        got = await client.post(
            f"/nominations/{case['nomination']}/endorse", json={}, headers=headers
        )
        assert got.status_code == expected, (caller, got.text)


async def test_only_the_departments_officer_checks_and_only_panel_reviewers_score(
    federation, at, case
) -> None:
    nomination = case["nomination"]
    hz, zj = federation["hzsteel"].client, federation["zj"].client
    who = callers(at, case["nominee"])
    await hz.post(
        f"/nominations/{nomination}/endorse", json={}, headers=who["enterprise cadre@hzsteel"]
    )
    await federation.flush()
    check = {"department": "discipline", "vetoed": False}
    for caller, expected in (
        ("superior cadre@zj", 403),
        ("reviewer@zj", 403),
        ("member@zj", 403),
        ("officer@zj", 200),
    ):
        got = await zj.post(
            f"/nominations/{nomination}/veto-checks", json=check, headers=who[caller]
        )
        assert got.status_code == expected, (caller, got.text)
    for caller, expected in (
        ("superior cadre@zj", 403),
        ("officer@zj", 403),
        ("member@zj", 403),
        ("reviewer@zj", 200),
    ):
        got = await zj.post(
            f"/nominations/{nomination}/reviews", json={"score": 70}, headers=who[caller]
        )
        assert got.status_code == expected, (caller, got.text)
    # The enterprise's cadre sees the nomination at the owner's node, yet may not act there.
    seen = await zj.get(f"/nominations/{nomination}", headers=who["enterprise cadre@zj"])
    scored = await zj.post(
        f"/nominations/{nomination}/reviews", json={"score": 1}, headers=who["enterprise cadre@zj"]
    )
    assert (seen.status_code, scored.status_code) == (200, 403)


async def test_only_the_owners_cadre_runs_the_scheme_and_its_rounds(federation, at, case) -> None:
    zj = federation["zj"].client
    who = callers(at, case["nominee"])
    body = {"name": "2026", "year": 2026, "deadline": "2026-03-01T00:00:00Z"}
    for caller, expected in (
        ("member@zj", 403),
        ("enterprise cadre@zj", 403),
        ("reviewer@zj", 403),
        ("superior cadre@zj", 201),
    ):
        got = await zj.post(f"/schemes/{case['scheme']}/rounds", json=body, headers=who[caller])
        assert got.status_code == expected, (caller, got.text)
    listed = await zj.get(f"/rounds/{case['round']}/nominations", headers=who["member@zj"])
    by_staff = await zj.get(f"/rounds/{case['round']}/nominations", headers=who["reviewer@zj"])
    assert (listed.status_code, by_staff.status_code) == (403, 200)
    assert [n["nomination_id"] for n in by_staff.json()["items"]] == [case["nomination"]]


async def test_a_scheme_is_visible_at_and_below_its_owner_only(federation, at, kit) -> None:
    hz = federation["hzsteel"].client
    created = await hz.post(
        "/schemes",
        json={
            "kind": "skilled_craftsman",
            "title": "HZ Steel craftsman",
            "reviewers": [{"sub": "rev-x", "org_id": "hzsteel"}],
            "min_reviews": 1,
        },
        headers=at("hzsteel", "hzsteel", "cadre"),
    )
    assert created.status_code == 201, created.text
    await federation.flush()
    scheme = created.json()["scheme_id"]

    for node, org, roles, expected in (
        ("hzsteel", HOME, ("member",), 200),
        ("hzsteel", "hzsteel-casting", ("cadre",), 200),
        ("zj", "zj", ("cadre",), 404),  # a superior sees roll-ups, not its subtree's schemes
        ("oc", "otherco", ("cadre",), 404),
    ):
        got = await federation[node].client.get(f"/schemes/{scheme}", headers=at(node, org, *roles))
        assert got.status_code == expected, (node, org, got.text)


async def test_a_scheme_is_created_by_a_cadre_of_an_org_hosted_at_the_node(federation, at) -> None:
    zj = federation["zj"].client
    body = {"kind": "model_worker", "title": "T", "reviewers": [{"sub": "r", "org_id": "zj"}]}
    as_member = await zj.post(
        "/schemes", json=body, headers=at("zj", "zj", "member", member_id="m1")
    )
    elsewhere = await zj.post("/schemes", json=body, headers=at("zj", "otherco", "cadre"))
    bad_quota = await zj.post(
        "/schemes",
        json=body | {"min_reviews": 1, "quotas": [{"org_id": "nowhere", "nominations": 1}]},
        headers=at("zj", "zj", "cadre"),
    )
    too_few = await zj.post("/schemes", json=body, headers=at("zj", "zj", "cadre"))

    assert as_member.status_code == 403
    assert elsewhere.status_code == 403
    assert bad_quota.status_code == 422
    assert bad_quota.json()["errors"][0]["field"] == "quotas[0].org_id"
    assert too_few.status_code == 422 and too_few.json()["errors"][0]["field"] == "min_reviews"
