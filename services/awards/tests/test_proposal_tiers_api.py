"""Reward tier tables of proposals over HTTP: set per org by its cadres or those above it at
this node, validated naming the tier, inherited from the nearest org above at this node, else
the node's default table from the settings."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from awards.settings import AwardsSettings

ENTERPRISE = {"org": "hzsteel", "roles": ["cadre"], "sub": "cadre-zhao"}
ROLLING = {"org": "hzsteel-rolling", "roles": ["cadre"]}
TABLE: list[dict[str, Any]] = [
    {"min_benefit_fen": 0, "reward_fen": 5_000},
    {"min_benefit_fen": 2_000_000, "reward_fen": 150_000, "rate": 0.015, "cap_fen": 800_000},
]


def _path(org: str) -> str:
    return f"/orgs/{org}/proposal-tiers"


async def test_an_org_without_tables_at_this_node_has_the_default(client, bus, auth) -> None:
    response = await client.get(_path("hzsteel-rolling"), headers=auth(**ROLLING))

    assert response.status_code == 200
    body = response.json()
    assert (body["source_org"], body["inherited"]) == (None, True)
    assert body["tiers"][0] == {
        "min_benefit_fen": 0,
        "reward_fen": 20_000,
        "rate": None,
        "cap_fen": None,
    }
    assert body["tiers"][-1]["rate"] == 0.01


async def test_a_table_set_by_the_enterprise_applies_below_it_until_one_sets_its_own(
    client, bus, auth
) -> None:
    put = await client.put(_path("hzsteel"), json={"tiers": TABLE}, headers=auth(**ENTERPRISE))
    inherited = (await client.get(_path("hzsteel-rolling"), headers=auth(**ROLLING))).json()
    own_table = [{"min_benefit_fen": 0, "reward_fen": 1}]
    own = await client.put(
        _path("hzsteel-rolling"), json={"tiers": own_table}, headers=auth(**ROLLING)
    )
    cleared = await client.delete(_path("hzsteel-rolling"), headers=auth(**ROLLING))

    assert put.status_code == 200, put.text
    assert (put.json()["inherited"], put.json()["set_by"]) == (False, "cadre-zhao")
    assert (inherited["source_org"], inherited["inherited"]) == ("hzsteel", True)
    assert inherited["tiers"] == [{**TABLE[0], "rate": None, "cap_fen": None}, TABLE[1]]
    assert own.json()["source_org"] == "hzsteel-rolling"
    assert cleared.status_code == 200
    assert cleared.json()["source_org"] == "hzsteel"


async def test_an_enterprise_cadre_may_set_the_table_of_an_org_below_it(client, bus, auth) -> None:
    response = await client.put(
        _path("hzsteel-rolling"), json={"tiers": TABLE}, headers=auth(**ENTERPRISE)
    )

    assert response.status_code == 200
    assert response.json()["source_org"] == "hzsteel-rolling"


@pytest.mark.parametrize(
    ("tiers", "field"),
    [
        (
            [{"min_benefit_fen": 100, "reward_fen": 1}, {"min_benefit_fen": 50, "reward_fen": 2}],
            "tiers.1.min_benefit_fen",
        ),
        (
            [{"min_benefit_fen": 0, "reward_fen": 1}, {"min_benefit_fen": 0, "reward_fen": 2}],
            "tiers.1.min_benefit_fen",
        ),
        ([{"min_benefit_fen": 0, "reward_fen": 1, "cap_fen": 9}], "tiers.0.cap_fen"),
        ([{"min_benefit_fen": 0, "reward_fen": 1, "rate": 0.00001}], "tiers.0.rate"),
        ([{"min_benefit_fen": 0, "reward_fen": 1, "rate": 1.5}], "tiers.0.rate"),
        ([{"min_benefit_fen": -1, "reward_fen": 1}], "tiers.0.min_benefit_fen"),
        ([], "tiers"),
    ],
)
async def test_an_unusable_table_is_422_naming_the_tier_and_changes_nothing(
    client, bus, auth, tiers, field
) -> None:
    response = await client.put(_path("hzsteel"), json={"tiers": tiers}, headers=auth(**ENTERPRISE))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    after = (await client.get(_path("hzsteel"), headers=auth(**ENTERPRISE))).json()
    assert after["source_org"] is None


async def test_a_cadre_above_at_another_node_sees_but_may_not_set(client, bus, auth) -> None:
    superior = auth(org="zj", roles=["cadre"])

    seen = await client.get(_path("hzsteel"), headers=superior)
    put = await client.put(_path("hzsteel"), json={"tiers": TABLE}, headers=superior)

    assert seen.status_code == 200
    assert put.status_code == 403


@pytest.mark.parametrize(
    ("caller", "org"),
    [
        ({"org": "hzsteel-casting", "roles": ["cadre"]}, "hzsteel-rolling"),  # a sibling
        ({"org": "hzsteel-rolling", "roles": ["cadre"]}, "hzsteel"),  # the org above
        ({"org": "hzsteel", "roles": ["member"], "member_id": "m-1"}, "hzsteel"),
        ({"org": "hzsteel", "roles": ["reviewer"]}, "hzsteel"),
        ({"org": "zj", "roles": ["cadre"]}, "otherco"),  # hosted by another node
    ],
)
async def test_a_table_is_hidden_from_those_outside_the_org_and_above_it(
    client, bus, auth, caller, org
) -> None:
    for response in (
        await client.get(_path(org), headers=auth(**caller)),
        await client.put(_path(org), json={"tiers": TABLE}, headers=auth(**caller)),
        await client.delete(_path(org), headers=auth(**caller)),
    ):
        assert response.status_code == 404


def test_the_default_table_comes_from_the_environment_and_must_be_usable(monkeypatch) -> None:
    table = [{"min_benefit_fen": 0, "reward_fen": 7}, {"min_benefit_fen": 10, "reward_fen": 9}]
    monkeypatch.setenv("BIGSCHOOL_PROPOSAL_DEFAULT_TIERS", json.dumps(table))

    assert [t.reward_fen for t in AwardsSettings().proposal_default_tiers] == [7, 9]
    monkeypatch.setenv("BIGSCHOOL_PROPOSAL_DEFAULT_TIERS", json.dumps(table[::-1]))
    with pytest.raises(ValidationError, match=r"tiers\.1\.min_benefit_fen"):
        AwardsSettings()
