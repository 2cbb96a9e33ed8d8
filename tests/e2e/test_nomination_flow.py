"""A three-level nomination, every service its own process on PostgreSQL, on the real broker:
the member's completions cross 120 hours at the enterprise node (facts from enrollment
events, no call between services); the grassroots cadre nominates there; the enterprise
returns it, the grassroots corrects it, the enterprise endorses; at the superior node the
discipline department clears it, a reviewer from the nominee's enterprise is refused
(recusal), two others score it; the shortlist goes on public notice to the whole subtree; a
member of another enterprise objects, the owner answers; the decision waits for the notice
to end; the round is published and the grant paid — and the superior node's databases
never hold the nominee's contact data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deploy.local.federation import ENTERPRISE_NODE, SECOND_ENTERPRISE_NODE, SUPERIOR_NODE
from deploy.local.node import SERVICES
from tests.e2e.conftest import RunningFederation
from tests.e2e.helpers import database_text, new_members
from tests.e2e.test_lifecycle import cadre, publish
from tests.e2e.test_member_lifecycle import enrol

pytestmark = pytest.mark.e2e

HOME, OWNER = "hzsteel-rolling", "zj-hz"


def awards(fed: RunningFederation, node: str, org: str, roles: str = "cadre", sub: str = "") -> Any:
    return fed.federation.client(node, "awards", org=org, roles=roles, sub=sub or f"{roles}@{org}")


def complete(fed: RunningFederation, member: dict[str, Any], hours: int) -> None:
    """The member completes a programme of `hours` owned by zj-hz (node zj)."""
    pid = publish(fed, capacity=3, hours=hours)
    enrollment_id = enrol(fed, ENTERPRISE_NODE, member, pid)
    owner = cadre(fed, SUPERIOR_NODE, OWNER)
    body = {"enrollment_ids": [enrollment_id], "attended": True}
    owner.post(f"/programmes/{pid}/attendance", body, expect=200)
    owner.post(f"/programmes/{pid}/seats/{enrollment_id}/completion", {"score": 95}, expect=200)
    owner.close()


def scheme_body() -> dict[str, Any]:
    return {
        "kind": "model_worker",
        "title": "杭州市劳动模范",
        "criteria": {"min_training_hours": 120},
        "endorse_levels": ["enterprise"],
        "quotas": [{"org_id": "hzsteel", "nominations": 2}],
        "veto_departments": [{"department": "discipline", "officer": "officer@zj-hz"}],
        "reviewers": [
            {"sub": "rev-a", "org_id": "zj-hz"},
            {"sub": "rev-b", "org_id": "zj"},
            {"sub": "rev-c", "org_id": "hzsteel"},
        ],
        "min_reviews": 2,
        "notice_days": 7,
        "benefits": [{"kind": "cash", "amount_fen": 500_000}, {"kind": "recuperation_leave"}],
        "budget_fen": 10_000_000,
        "stipend": {"yearly_fen": 120_000, "years": 3},
    }


def test_a_nomination_climbs_three_levels_and_is_granted(
    running_federation: RunningFederation,
) -> None:
    fed = running_federation
    [member] = new_members(fed.federation, 1, org=HOME)
    # A member of another enterprise, who will read the notice and object (registered now:
    # their node's awards learns them from the node-local topic meanwhile).
    [objector] = new_members(fed.federation, 1, org="hzbus-depot", node=SECOND_ENTERPRISE_NODE)
    member_id = member["member_id"]
    owner = awards(fed, SUPERIOR_NODE, OWNER)
    scheme = owner.post("/schemes", scheme_body())
    deadline = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    year = datetime.now(UTC).year
    round_ = owner.post(
        f"/schemes/{scheme['scheme_id']}/rounds",
        {"name": f"{year}", "year": year, "deadline": deadline},
    )
    grassroots = awards(fed, ENTERPRISE_NODE, HOME)
    grassroots.wait_for(f"/rounds/{round_['round_id']}", lambda b: b["status"] == "open")
    filing = {
        "scheme_id": scheme["scheme_id"],
        "round_id": round_["round_id"],
        "member_ids": [member_id],
        "achievements": "Cut the rolling mill's scrap rate from 3.1% to 2.0%.",
    }

    # 100 hours are not enough; 20 more, learnt from enrollment events, are.
    complete(fed, member, 100)
    member_awards = fed.federation.member_client(ENTERPRISE_NODE, member, service="awards")
    member_awards.wait_for(f"/members/{member_id}/facts", lambda b: len(b["items"]) == 2)
    short = grassroots.post("/nominations", filing, expect=422)
    assert "min_training_hours" in short["detail"]
    complete(fed, member, 20)
    member_awards.wait_for(f"/members/{member_id}/facts", lambda b: len(b["items"]) == 4)
    nomination = grassroots.post("/nominations", filing, expect=202)
    nid = nomination["nomination_id"]

    # The owner admits it; the enterprise returns it, the grassroots corrects, it climbs.
    enterprise = awards(fed, ENTERPRISE_NODE, "hzsteel")
    enterprise.wait_for(f"/nominations/{nid}", lambda b: b["status"] == "endorsing", timeout=60)
    enterprise.post(f"/nominations/{nid}/return", {"reasons": "Give the figures."}, expect=200)
    grassroots.post(
        f"/nominations/{nid}/resubmit",
        {"achievements": "Scrap 3.1% → 2.0% in 2025; trained 12 apprentices."},
        expect=200,
    )
    enterprise.post(f"/nominations/{nid}/endorse", {"comment": "Endorsed."}, expect=200)

    # At the owner: the department clears it, recusal holds, two reviewers score it.
    officer = awards(fed, SUPERIOR_NODE, OWNER, "reviewer", "officer@zj-hz")
    officer.wait_for(f"/nominations/{nid}", lambda b: b["status"] == "veto_check", timeout=60)
    officer.post(
        f"/nominations/{nid}/veto-checks", {"department": "discipline", "vetoed": False}, 200
    )
    recused = awards(fed, SUPERIOR_NODE, "hzsteel", "reviewer", "rev-c")
    recused.post(f"/nominations/{nid}/reviews", {"score": 100}, expect=403)
    for sub, score in (("rev-a", 92), ("rev-b", 88)):
        awards(fed, SUPERIOR_NODE, OWNER, "reviewer", sub).post(
            f"/nominations/{nid}/reviews", {"score": score}, expect=200
        )
    dossier = owner.get(f"/nominations/{nid}")["dossier"]
    assert dossier["version"] == 2 and dossier["training_hours"] >= 120
    assert len(dossier["cited_facts"]) == 2  # the two completions, by the ce_ids they came from

    # Public notice to the subtree: a member of another enterprise reads it and objects.
    notices = f"/rounds/{round_['round_id']}/notices"
    notice = owner.post(notices, {"nomination_ids": [nid]}, expect=202)
    objector_awards = fed.federation.member_client(
        SECOND_ENTERPRISE_NODE, objector, service="awards"
    )
    shown = objector_awards.wait_for(f"/notices/{notice['notice_id']}", lambda b: True, 60)
    assert shown["entries"][0]["nominees"][0]["display_name"] == member["name"]
    objection = objector_awards.post(
        f"/notices/{notice['notice_id']}/objections",
        {"nomination_id": nid, "reasons": "The scrap figures were measured before the audit."},
        expect=202,
    )
    owner.wait_for(f"/nominations/{nid}", lambda b: b["open_objections"] == 1, timeout=60)
    decision = {"granted": True, "reasons": "Outstanding record, objection answered."}
    owner.post(f"/nominations/{nid}/decision", decision, expect=409)  # open objection
    owner.post(
        f"/objections/{objection['objection_id']}/resolve",
        {"upheld": False, "answer": "The figures were re-measured after the audit."},
        expect=200,
    )
    objector_awards.wait_for(
        f"/objections/{objection['objection_id']}", lambda b: b["status"] == "dismissed", 60
    )
    owner.post(f"/nominations/{nid}/decision", decision, expect=409)  # notice still running
    fed.advance_clock(8 * 24 * 3600)
    owner.post(f"/nominations/{nid}/decision", decision, expect=200)
    owner.post(f"/rounds/{round_['round_id']}/close", {}, expect=200)
    owner.post(f"/rounds/{round_['round_id']}/publish", {}, expect=200)

    # The member's home keeps the title on their record; the superior never saw contact data.
    honours = member_awards.wait_for(f"/members/{member_id}/honours", lambda b: b["items"], 60)
    assert honours["items"][0]["title"] == "杭州市劳动模范"
    grassroots.wait_for(f"/nominations/{nid}", lambda b: b["status"] == "granted", timeout=60)
    trail = grassroots.get(f"/nominations/{nid}/trail")
    assert [s["actor_org"] for s in trail][:5] == [HOME, OWNER, "hzsteel", HOME, "hzsteel"]
    for service in SERVICES:
        text = database_text(fed.database_urls[SUPERIOR_NODE][service])
        assert member["email"] not in text and member["phone"] not in text, service
