# ruff: noqa: RUF001
"""The superior's dashboard: roll-up charts with data tables, drilled down one level at a
time within what the roll-up API lets the cadre see, exported as CSV and XLSX; and the
programmes of the subtree."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import httpx
from openpyxl import load_workbook

from portal.testing import PROGRAMME, Portal

TOP = "steel-rolling"  # the demo cadre's org (portal.testing)
AREAS = ("ethics", "science_culture", "technical_skills", "safety_health")


def row(org: str, name: str, members: int | None, **figures: Any) -> dict[str, Any]:
    if members is None:
        return {"org_id": org, "name": name, "level": "grassroots", "suppressed": True, "orgs": 1}
    return {
        "org_id": org,
        "name": name,
        "level": "grassroots",
        "suppressed": False,
        "orgs": 1,
        "members": members,
        "participants": figures.get("participants", 0),
        "participation_rate": figures.get("rate", 0.0),
        "hours": {a: 0.0 for a in AREAS},
        "hours_per_member": {a: figures.get(a, 0.0) for a in AREAS},
        "completions": {a: 0 for a in AREAS},
        "committed_fen": figures.get("committed", 0),
        "spent_fen": figures.get("spent", 0),
    }


TREE: dict[str, dict[str, Any]] = {
    TOP: {"org_id": TOP, "name": "轧钢工会", "parent_id": "steel", "level": "enterprise"},
    "crane": {"org_id": "crane", "name": "=吊车班组", "parent_id": TOP, "level": "grassroots"},
    "tiny": {"org_id": "tiny", "name": "小组", "parent_id": TOP, "level": "grassroots"},
}
DRILL: dict[str, dict[str, Any]] = {
    TOP: {
        "parent": row(TOP, "轧钢工会", 40, participants=16, rate=0.4, ethics=1.5, spent=123450),
        "items": [
            row("crane", "=吊车班组", 30, participants=12, rate=0.4, spent=100000),
            row("tiny", "小组", None),
        ],
    },
    "crane": {"parent": row("crane", "=吊车班组", 30, participants=12, rate=0.4), "items": []},
}
ADOPTION = {"suppressed": False, "evaluated": 8, "adopted": 6, "rate": 0.75}


def answer(request: httpx.Request) -> httpx.Response | None:
    path = request.url.path
    if request.url.host == "enrollment" and path.startswith("/rollups/"):
        org = path.split("/")[2]
        if org not in DRILL:  # beyond the caller's subtree, or unknown: the API's 404
            return httpx.Response(404, json={"title": "Not Found", "detail": "no such org"})
        year = int(request.url.params.get("year") or 2026)
        return httpx.Response(
            200, json={**DRILL[org], "org_id": org, "year": year, "next_cursor": None}
        )
    if request.url.host == "enrollment" and path.startswith("/orgs/"):
        org = path.split("/")[2]
        return httpx.Response(200, json=TREE[org]) if org in TREE else httpx.Response(404)
    if request.url.host == "awards" and path.endswith("/proposal-stats"):
        org = path.split("/")[2]
        if org != TOP:
            return httpx.Response(404, json={"detail": "not visible"})
        return httpx.Response(200, json={"total": {"adoption": ADOPTION}})
    return None


async def cadre(portal: Portal) -> Portal:
    portal.services.special.append(answer)
    await portal.sign_in("cadre")
    return portal


async def test_a_member_gets_the_403_page_before_any_roll_up_is_asked(portal: Portal) -> None:
    await portal.sign_in("member")
    for path in ("/dashboard", "/dashboard/export.csv", "/dashboard/programmes"):
        answer = await portal.http.get(path)
        assert answer.status_code == 403
        assert "Traceback" not in answer.text
    assert not [r for r in portal.services.seen if r.url.path.startswith("/rollups")]


async def test_the_dashboard_charts_the_subtree_with_a_data_table_beside_each_chart(
    portal: Portal,
) -> None:
    await cadre(portal)
    html = (await portal.http.get("/dashboard")).text
    assert portal.services.calls("GET", f"/rollups/{TOP}/children")
    for chart in ("dash-participation", "dash-hours", "dash-money", "dash-adoption"):
        assert f'id="{chart}"' in html
    assert html.count("<svg") == 4 and html.count("<table>") == 4
    assert 'class="bar"' in html and "40%" in html  # participation of the total and of crane
    assert "¥1,234.5" in html  # money spent, in yuan
    assert "75%" in html  # proposal adoption of the subtree, from the awards API
    assert "人数过少，不显示" in html  # the suppressed group: words, no figure
    assert " style=" not in html and "<script>" not in html


async def test_each_child_org_links_to_its_own_dashboard_and_the_crumbs_lead_back(
    portal: Portal,
) -> None:
    await cadre(portal)
    top = (await portal.http.get("/dashboard?year=2025")).text
    assert 'href="/dashboard?org=crane&amp;year=2025"' in top
    down = await portal.http.get("/dashboard?org=crane&year=2025")
    assert down.status_code == 200
    assert portal.services.calls("GET", "/rollups/crane/children")
    assert f'href="/dashboard?org={TOP}&amp;year=2025"' in down.text  # the crumb back up
    assert '<span aria-current="page">=吊车班组</span>' in down.text
    assert "该组织没有下级组织" in down.text  # one level at a time: here the tree ends


async def test_an_org_beyond_the_users_subtree_is_the_apis_404_shown_as_a_page(
    portal: Portal,
) -> None:
    await cadre(portal)
    answer = await portal.http.get("/dashboard?org=elsewhere")
    assert answer.status_code == 404
    assert "未找到该页面或记录" in answer.text and "Traceback" not in answer.text
    before = len(portal.services.seen)
    crafted = await portal.http.get("/dashboard?org=../programmes")  # not an org id
    assert crafted.status_code == 404
    assert not [r for r in portal.services.seen[before:] if r.url.host == "enrollment"]


async def test_a_malformed_year_is_a_clear_error_and_asks_no_api(portal: Portal) -> None:
    await cadre(portal)
    answer = await portal.http.get("/dashboard?year=20x6")
    assert answer.status_code == 400
    assert "年度格式不正确" in answer.text
    assert not portal.services.calls("GET", f"/rollups/{TOP}/children")


async def test_the_csv_export_holds_the_shown_rows_with_chinese_names_intact(
    portal: Portal,
) -> None:
    await cadre(portal)
    answer = await portal.http.get("/dashboard/export.csv?year=2025")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="dashboard-steel-rolling-2025.csv"' in answer.headers["content-disposition"]
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["组织编号", "组织"]
    assert [r[0] for r in rows[1:]] == [TOP, "crane", "tiny"]
    assert rows[1][1] == "轧钢工会" and rows[1][3] == "40" and rows[1][-1] == "0.75"
    assert rows[2][1] == "'=吊车班组"  # a name that would start a formula stays text
    assert rows[3][2] == "yes" and rows[3][3] == ""  # suppressed: no figure


async def test_the_xlsx_export_holds_the_same_rows(portal: Portal) -> None:
    await cadre(portal)
    answer = await portal.http.get("/dashboard/export.xlsx?year=2025")
    assert answer.status_code == 200
    book = load_workbook(io.BytesIO(answer.content), read_only=True)
    sheet = book.active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert [r[0] for r in rows[1:]] == [TOP, "crane", "tiny"]
    assert (
        rows[1][1] == "轧钢工会" and rows[1][3] == 40 and rows[1][10] == 1234.5 and rows[1][13] == 6
    )


async def test_the_export_follows_the_language_of_the_page(portal: Portal) -> None:
    await cadre(portal)
    portal.http.cookies.set("bigschool_lang", "en")
    answer = await portal.http.get("/dashboard/export.csv")
    header = next(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert header[:3] == ["Org id", "Org", "Suppressed"]


async def test_subtree_programmes_are_those_owned_at_or_below_the_cadres_org(
    portal: Portal,
) -> None:
    mine = {**PROGRAMME, "programme_id": "p2", "owner_org": "crane", "title": "Crane drill"}
    other = {**PROGRAMME, "programme_id": "p3", "owner_org": "steel", "title": "Elsewhere"}
    portal.services.special.append(
        lambda r: (
            httpx.Response(200, json={"items": [mine, other], "next_cursor": None})
            if r.url.path == "/programmes"
            else None
        )
    )
    portal.services.special.append(lambda r: answer(r) if r.url.path != "/orgs/steel" else None)
    await portal.sign_in("cadre")
    html = (await portal.http.get("/dashboard/programmes")).text
    assert "Crane drill" in html and "Elsewhere" not in html


async def test_a_long_name_is_cut_in_the_chart_and_whole_in_its_data_table(
    portal: Portal,
) -> None:
    long = "中国" * 30
    DRILL["long"] = {"parent": row("long", long, 12, participants=3, rate=0.25), "items": []}
    try:
        await cadre(portal)
        html = (await portal.http.get("/dashboard?org=long")).text
    finally:
        del DRILL["long"]
    labels = re.findall(r'class="bar-label"[^>]*>([^<]*)<', html)
    assert labels[0].startswith("合计: 中国中国") and labels[0].endswith("…")
    assert len(labels[0]) < 25 and not [label for label in labels if long in label]
    assert f'<th scope="row">合计: {long}</th>' in html
