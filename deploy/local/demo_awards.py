"""The demo's recognition: the city federation's skilled-craftsman scheme, 陈刚 (who won the
skills competition) nominated by his depot, endorsed by his enterprise, cleared and reviewed
at the city and put on public notice; and an immediate reward for Li Lei within the quota the
bus company gives its depot. Everything through the public APIs, each step at its own node."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from deploy.local.client import ServiceClient
from deploy.local.federation import SECOND_ENTERPRISE_NODE, SUPERIOR_NODE, Federation

CITY, BUS, DEPOT = "zj-hz", "hzbus", "hzbus-depot"
OFFICER, REVIEWERS = "officer@zj-hz", ("rev-a@zj-hz", "rev-b@zj")


def _awards(federation: Federation, node: str, org: str, roles: str, sub: str) -> ServiceClient:
    return federation.client(node, "awards", org=org, roles=roles, sub=sub)


def _scheme(city: ServiceClient, year: int) -> tuple[str, str]:
    scheme = city.post(
        "/schemes",
        {
            "kind": "skilled_craftsman",
            "title": f"杭州市技术能手 {year}",
            "criteria": {"best_rank_at_most": 3},
            "endorse_levels": ["enterprise"],
            "quotas": [{"org_id": BUS, "nominations": 2}],
            "veto_departments": [{"department": "safety", "officer": OFFICER}],
            "reviewers": [
                {"sub": REVIEWERS[0], "org_id": CITY},
                {"sub": REVIEWERS[1], "org_id": "zj"},
            ],
            "min_reviews": 2,
            "benefits": [
                {"kind": "cash", "amount_fen": 300_000},
                {"kind": "study_visit", "detail": "深圳技能交流"},
            ],
            "budget_fen": 3_000_000,
        },
    )
    deadline = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    round_ = city.post(
        f"/schemes/{scheme['scheme_id']}/rounds",
        {"name": f"{year} 年度评选", "year": year, "deadline": deadline},
    )
    return str(scheme["scheme_id"]), str(round_["round_id"])


def _nominate(
    federation: Federation, chen: dict[str, Any], scheme: str, round_id: str, year: int
) -> str:
    """At hzbus: the depot nominates (the competition rank is checked there), the bus company
    endorses; at zj: the safety officer clears it and two reviewers score it."""
    depot = _awards(federation, SECOND_ENTERPRISE_NODE, DEPOT, "cadre", f"cadre@{DEPOT}")
    depot.wait_for(f"/rounds/{round_id}", lambda body: body["status"] == "open")
    member = federation.member_client(SECOND_ENTERPRISE_NODE, chen, service="awards")
    record = f"/members/{chen['member_id']}/record?year={year}"
    member.wait_for(record, lambda body: body["best_rank"] == 1)
    member.close()
    filed = depot.post(
        "/nominations",
        {
            "scheme_id": scheme,
            "round_id": round_id,
            "member_ids": [chen["member_id"]],
            "achievements": "起重机操作技能竞赛第一名, 带徒 6 人。",
        },
        expect=202,
    )
    nid = str(filed["nomination_id"])
    depot.close()
    bus = _awards(federation, SECOND_ENTERPRISE_NODE, BUS, "cadre", f"cadre@{BUS}")
    bus.wait_for(f"/nominations/{nid}", lambda body: body["status"] == "endorsing")
    bus.post(f"/nominations/{nid}/endorse", {"comment": "同意推荐。"}, expect=200)
    bus.close()
    officer = _awards(federation, SUPERIOR_NODE, CITY, "reviewer", OFFICER)
    officer.wait_for(f"/nominations/{nid}", lambda body: body["status"] == "veto_check")
    check = {"department": "safety", "vetoed": False}
    officer.post(f"/nominations/{nid}/veto-checks", check, expect=200)
    officer.close()
    for sub, score in zip(REVIEWERS, (93, 90), strict=True):
        reviewer = _awards(federation, SUPERIOR_NODE, CITY, "reviewer", sub)
        reviewer.post(f"/nominations/{nid}/reviews", {"score": score}, expect=200)
        reviewer.close()
    return nid


def _reward(federation: Federation, li: dict[str, Any]) -> str:
    """The bus company gives its depot a monthly quota; the depot rewards Li Lei on the spot."""
    bus = _awards(federation, SECOND_ENTERPRISE_NODE, BUS, "cadre", f"cadre@{BUS}")
    quota = {"count": 10, "amount_fen": 500_000, "period": "month"}
    bus.http.put(f"/orgs/{DEPOT}/reward-quota", json=quota).raise_for_status()
    bus.close()
    depot = _awards(federation, SECOND_ENTERPRISE_NODE, DEPOT, "cadre", f"cadre@{DEPOT}")
    reward = depot.post(
        "/rewards",
        {
            "member_id": li["member_id"],
            "home_org": DEPOT,
            "title": "安全隐患及时报告奖",
            "reason": "Reported a worn crane hook before the morning shift.",
            "amount_fen": 20_000,
            "benefits": ["cash"],
        },
    )
    depot.close()
    return str(reward["reward_id"])


def seed_recognition(
    federation: Federation, chen: dict[str, Any], li: dict[str, Any], year: int
) -> dict[str, str]:
    city = _awards(federation, SUPERIOR_NODE, CITY, "cadre", f"cadre@{CITY}")
    scheme, round_id = _scheme(city, year)
    nomination = _nominate(federation, chen, scheme, round_id, year)
    notice = city.post(f"/rounds/{round_id}/notices", {"nomination_ids": [nomination]}, 202)
    city.close()
    return {
        "scheme": scheme,
        "round": round_id,
        "nomination": nomination,
        "notice": str(notice["notice_id"]),
        "reward": _reward(federation, {**li, "home_org": DEPOT}),
    }
