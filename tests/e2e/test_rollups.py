"""Roll-ups across three levels: the superior node (zj) answers for its whole subtree from the
snapshots the enterprise nodes (hzsteel, hzbus) publish on the stats topic — counts only. Its
roll-up equals what the enterprise nodes hold, figure by figure; a group of three members is
suppressed and cannot be derived from a parent minus its siblings; and no database of the
superior holds a row about any of the members counted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deploy.local.federation import ENTERPRISE_NODE, SECOND_ENTERPRISE_NODE, SUPERIOR_NODE
from deploy.local.node import SERVICES
from shared.timezones import year_bounds, year_of
from tests.e2e.conftest import RunningFederation
from tests.e2e.helpers import database_text, new_members, query, wait_until

pytestmark = pytest.mark.e2e

ZONE = "Asia/Shanghai"
AREAS = ("ethics", "science_culture", "technical_skills", "safety_health")
NOT_PARTICIPATING = ["refused", "rejected", "cancelled", "no_show"]
COST = 100  # fen a seat


def register_org(fed: RunningFederation, node: str, parent: str, org_id: str) -> None:
    """An admin of the parent registers a grassroots org at the parent's node; wait until
    the superior has replicated it (its snapshots are kept only once it knows the org)."""
    admin = fed.federation.client(
        node, "enrollment", org=parent, roles="admin", sub=f"admin@{parent}"
    )
    body = {"org_id": org_id, "name": f"{org_id} 工会", "parent_id": parent, "level": "grassroots"}
    admin.post("/orgs", body)
    admin.close()
    top = fed.federation.admin(SUPERIOR_NODE)
    top.wait_for(f"/orgs/{org_id}", lambda _: True)
    top.close()


def held(url: str, node: str, year: int, only: list[str] | None = None) -> dict[str, Any]:
    """What one node holds of the orgs it hosts (or of `only` those), for `year`, counted
    from its own tables by the definitions of the snapshots (service/stats.py)."""
    start, end = year_bounds(ZONE, year)
    hosted = query(url, "SELECT org_id FROM orgs WHERE hosted_by = $1", node)
    orgs = only or [r["org_id"] for r in hosted]

    def one(sql: str, *args: Any) -> int:
        return int(query(url, sql, orgs, *args)[0]["n"] or 0)

    figures: dict[str, Any] = {
        "members": one(
            "SELECT count(*) AS n FROM members WHERE home_org = ANY($1) AND created_at < $2", end
        ),
        "participants": one(
            "SELECT count(*) AS n FROM (SELECT DISTINCT home_org, member_id FROM enrollments"
            " WHERE home_org = ANY($1) AND requested_at >= $2 AND requested_at < $3"
            " AND status <> ALL($4)) AS t",
            start,
            end,
            NOT_PARTICIPATING,
        ),
        "committed_fen": one(
            "SELECT sum(committed_fen) AS n FROM budgets WHERE org_id = ANY($1) AND year = $2",
            year,
        ),
        "spent_fen": one(
            "SELECT sum(spent_fen) AS n FROM budgets WHERE org_id = ANY($1) AND year = $2", year
        ),
    }
    rows = query(
        url,
        "SELECT quality_area, sum(hours) AS h, count(*) AS n FROM learning_records"
        " WHERE home_org = ANY($1) AND year = $2 AND revoked_at IS NULL GROUP BY quality_area",
        orgs,
        year,
    )
    areas = {r["quality_area"]: (float(r["h"]), int(r["n"])) for r in rows}
    figures["hours"] = {a: round(areas.get(a, (0.0, 0))[0], 3) for a in AREAS}
    figures["completions"] = {a: areas.get(a, (0.0, 0))[1] for a in AREAS}
    return figures


def added(*parts: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if isinstance(value, dict):
                inner = out.setdefault(key, {})
                for k, v in value.items():
                    inner[k] = round(inner.get(k, 0) + v, 3)
            else:
                out[key] = out.get(key, 0) + int(value)
    return out


def shown(body: dict[str, Any]) -> dict[str, Any]:
    return {
        key: body[key]
        for key in ("members", "participants", "committed_fen", "spent_fen", "hours", "completions")
    }


def test_the_superior_sums_what_the_enterprise_nodes_hold_and_hides_small_groups(
    running_federation: RunningFederation,
) -> None:
    fed = running_federation
    tag = uuid.uuid4().hex[:6]
    big, small = f"hzsteel-r{tag}", f"hzbus-r{tag}"
    register_org(fed, ENTERPRISE_NODE, "hzsteel", big)
    register_org(fed, SECOND_ENTERPRISE_NODE, "hzbus", small)
    members = new_members(fed.federation, 12, org=big, node=ENTERPRISE_NODE)
    members += new_members(fed.federation, 3, org=small, node=SECOND_ENTERPRISE_NODE)
    # Two of the big group take part in their union's own programme, paid from its budget.
    start = datetime.now(UTC) + timedelta(days=7)
    cadre = fed.federation.client(
        ENTERPRISE_NODE, "enrollment", org=big, roles="cadre", sub=f"cadre@{big}"
    )
    budget = {"union_fund_fen": 100 * COST, "education_share_bp": 10000}
    response = cadre.http.put(f"/budgets/{big}/{year_of(start, ZONE)}", json=budget)
    assert response.status_code == 200, response.text
    cadre.close()
    programme = fed.federation.publish_programme(
        ENTERPRISE_NODE, big, 5, cost_per_seat_fen=COST, starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=8)).isoformat(),
    )  # fmt: skip
    for member in members[:2]:
        client = fed.federation.member_client(ENTERPRISE_NODE, member)
        asked = client.post("/enrollments", {"programme_id": programme["programme_id"]}, 202)
        client.wait_for(f"/enrollments/{asked['id']}", lambda b: b["status"] == "confirmed")
        client.close()

    superior = fed.federation.client(
        SUPERIOR_NODE, "enrollment", org="zj-hz", roles="cadre", sub="statistics@zj-hz"
    )
    year = superior.get("/rollups/zj-hz")["year"]
    urls = {node: fed.database_urls[node]["enrollment"] for node in fed.database_urls}

    def expected() -> dict[str, Any]:
        own = held(urls[SUPERIOR_NODE], SUPERIOR_NODE, year, ["zj-hz"])  # its own budget
        parts = [held(urls[n], n, year) for n in (ENTERPRISE_NODE, SECOND_ENTERPRISE_NODE)]
        return added(own, *parts)

    def matches() -> Any:
        want, got = expected(), shown(superior.get("/rollups/zj-hz", year=year))
        return got == want or (want, got)

    # The superior's roll-up is the sum of what the enterprise nodes hold, figure by figure.
    assert wait_until(lambda: matches() is True, timeout=90, what="roll-up = enterprises")
    total = superior.get("/rollups/zj-hz", year=year)
    assert total["members"] >= 15 and total["participants"] >= 2
    assert total["committed_fen"] >= 2 * COST
    mine = superior.get(f"/rollups/{big}", year=year)  # shown, unless it is a complement
    assert mine["suppressed"] or (mine["members"], mine["participants"]) == (12, 2)

    # The group of three is suppressed wherever it shows, and no parent minus its shown
    # children leaves a group under five on the way down to it.
    assert superior.get(f"/rollups/{small}", year=year)["suppressed"] is True
    for parent in ("zj-hz", "hzbus"):
        drill = superior.get(f"/rollups/{parent}/children", year=year, limit=200)
        rows = {row["org_id"]: row for row in drill["items"]}
        if small in rows:
            assert rows[small]["suppressed"] and rows[small]["members"] is None
        if not drill["parent"]["suppressed"]:
            visible = sum(r["members"] for r in drill["items"] if not r["suppressed"])
            assert drill["parent"]["members"] - visible not in (1, 2, 3, 4), parent
    csv_text = superior.http.get("/rollups/hzbus/children.csv", params={"year": year}).text
    [line] = [row for row in csv_text.splitlines() if small in row]
    assert ",yes," in line  # suppressed in the export too
    superior.close()

    # The superior holds counts only: no member id (nor contact data) in any of its databases.
    ids = [m["member_id"] for m in members]
    for service in SERVICES:
        text = database_text(fed.database_urls[SUPERIOR_NODE][service])
        assert not [i for i in ids if i in text], f"a member id in the superior {service} db"
        assert not [m["email"] for m in members if m["email"] in text]
    home = database_text(urls[ENTERPRISE_NODE])
    assert all(m["member_id"] in home for m in members[:12])  # the search does find them
