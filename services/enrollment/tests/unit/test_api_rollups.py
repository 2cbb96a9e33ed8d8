"""GET /rollups/…: subtree roll-ups, drill-down, levels and exports of the snapshots a node
keeps — sums, suppression of small groups (and their complements), and who may see them.
Snapshots reach the node through its stats consumer, as Kafka would deliver them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from shared.contracts import topics
from shared.contracts.envelope import envelope_for
from shared.contracts.events import AreaFigures, OrgLevel, QualityArea, StatsSnapshot
from shared.messaging.consumer import Outcome
from shared.orgs.authority import Org
from shared.testing import record_for

NOW = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)
YEAR = 2030
MORE = [
    ("hzsteel-forging", "hzsteel", OrgLevel.grassroots, "zj"),
    ("hzbus", "zj-hz", OrgLevel.enterprise, "hzbus"),
    ("hzbus-depot", "hzbus", OrgLevel.grassroots, "hzbus"),
]


async def keep(service, org: str, members: int = 0, **figures: Any) -> None:
    """The org's own snapshot, from the node hosting it, through the stats consumer."""
    known = await service.ctx.orgs.get(org)
    assert known is not None
    event = StatsSnapshot(
        org_id=org,
        year=figures.pop("year", YEAR),
        version=figures.pop("version", 1),
        level=known.level,
        parent_id=known.parent_id,
        hosted_by=known.hosted_by,
        members=members,
        generated_at=NOW,
        **figures,
    )
    consumer = next(c for c in service.app.state.runtime.consumers if c.spec.name == "stats")
    envelope = envelope_for(event, source=f"bigschool/{known.hosted_by}/enrollment", at=NOW)
    assert await consumer.process(record_for(event, envelope, topic=topics.STATS)) == (
        Outcome.handled
    )


def hours(h: float, done: int) -> dict[QualityArea, AreaFigures]:
    return {QualityArea.safety_health: AreaFigures(hours=h, completions=done)}


@pytest.fixture
async def zj(node, seed_orgs):
    """zj-hz: hzsteel (rolling 40, casting 12, forging 8; own budget) and hzbus (depot 20)."""
    await seed_orgs(node.ctx, node.db, MORE)
    await keep(node, "zj-hz", committed_fen=1_000)
    await keep(node, "hzsteel", committed_fen=5_000, spent_fen=2_000)
    await keep(node, "hzsteel-rolling", 40, participants=10, areas=hours(80, 10))
    await keep(node, "hzsteel-casting", 12, participants=6, areas=hours(20, 4))
    await keep(node, "hzsteel-forging", 8, participants=0)
    await keep(node, "hzbus-depot", 20, participants=5, areas=hours(10, 2))
    return node


async def get(service, token, path: str, org: str = "zj-hz", role: str = "cadre", **params):
    response = await service.client.get(
        path, params={"year": YEAR, **params}, headers=token(org, role)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_subtree_roll_up_sums_every_org_below(zj, token) -> None:
    body = await get(zj, token, "/rollups/zj-hz")

    assert (body["org_id"], body["year"], body["node"], body["suppressed"]) == (
        "zj-hz",
        YEAR,
        "zj",
        False,
    )
    assert (body["members"], body["participants"], body["orgs"]) == (80, 21, 7)
    assert body["participation_rate"] == round(21 / 80, 4)
    assert body["hours"]["safety_health"] == 110
    assert body["hours_per_member"]["safety_health"] == round(110 / 80, 3)
    assert body["completions"] == {
        "ethics": 0,
        "science_culture": 0,
        "technical_skills": 0,
        "safety_health": 16,
    }
    assert (body["committed_fen"], body["spent_fen"]) == (6_000, 2_000)
    assert body["min_group_size"] == 5


async def test_a_year_without_snapshots_is_all_zeros_and_suppressed_not(zj, token) -> None:
    body = await get(zj, token, "/rollups/zj-hz", year=YEAR - 1)

    assert (body["suppressed"], body["members"], body["committed_fen"]) == (False, 0, 0)


async def test_the_drill_down_shows_each_childs_subtree(zj, token) -> None:
    body = await get(zj, token, "/rollups/zj-hz/children")

    assert body["parent"]["members"] == 80
    rows = {row["org_id"]: row for row in body["items"]}
    assert list(rows) == ["hzbus", "hzsteel"]
    assert (rows["hzsteel"]["members"], rows["hzsteel"]["committed_fen"]) == (60, 5_000)
    assert (rows["hzbus"]["members"], rows["hzbus"]["orgs"]) == (20, 2)
    assert rows["hzsteel"]["level"] == "enterprise"
    assert body["next_cursor"] is None


async def test_the_drill_down_pages_with_a_cursor(zj, token) -> None:
    first = await get(zj, token, "/rollups/hzsteel/children", limit=2)
    second = await get(zj, token, "/rollups/hzsteel/children", limit=2, cursor=first["next_cursor"])

    assert [r["org_id"] for r in first["items"]] == ["hzsteel-casting", "hzsteel-forging"]
    assert [r["org_id"] for r in second["items"]] == ["hzsteel-rolling"]
    assert second["next_cursor"] is None


async def test_the_levels_split_the_subtree(zj, token) -> None:
    body = await get(zj, token, "/rollups/zj-hz/levels")

    levels = {row["level"]: row for row in body["levels"]}
    assert list(levels) == ["superior", "enterprise", "grassroots"]
    assert (levels["superior"]["orgs"], levels["superior"]["committed_fen"]) == (1, 1_000)
    assert (levels["enterprise"]["orgs"], levels["enterprise"]["committed_fen"]) == (2, 5_000)
    assert (levels["grassroots"]["orgs"], levels["grassroots"]["members"]) == (4, 80)
    assert body["total"]["members"] == 80


# -- small groups ---------------------------------------------------------------------------


async def test_a_group_of_three_is_suppressed_with_a_sibling_and_cannot_be_derived(
    zj, token
) -> None:
    await keep(zj, "hzbus-depot", 3, participants=2, areas=hours(12, 2), version=2)

    parent = await get(zj, token, "/rollups/zj-hz")
    drill = await get(zj, token, "/rollups/zj-hz/children")

    assert parent["members"] == 63  # the parent is shown …
    rows = {row["org_id"]: row for row in drill["items"]}
    assert rows["hzbus"]["suppressed"] and rows["hzbus"]["members"] is None
    # … and the only sibling is hidden with the small group: parent minus siblings is 63.
    assert rows["hzsteel"]["suppressed"] and rows["hzsteel"]["members"] is None
    for org in ("hzbus", "hzsteel", "hzbus-depot", "hzsteel-rolling"):
        alone = await get(zj, token, f"/rollups/{org}")
        assert alone["suppressed"] and alone["participants"] is None, org
    below = await get(zj, token, "/rollups/hzsteel/children")  # hidden all the way down
    assert below["parent"]["suppressed"]
    assert all(row["suppressed"] for row in below["items"])


async def test_a_small_child_takes_the_next_smallest_sibling_not_the_biggest(zj, token) -> None:
    await keep(zj, "hzsteel-casting", 3, participants=3, version=2)

    drill = await get(zj, token, "/rollups/hzsteel/children")

    rows = {row["org_id"]: row["suppressed"] for row in drill["items"]}
    assert rows == {"hzsteel-casting": True, "hzsteel-forging": True, "hzsteel-rolling": False}
    shown = sum(r["members"] for r in drill["items"] if not r["suppressed"])
    assert drill["parent"]["members"] - shown == 11  # 3 + 8: not the group of three


async def test_pages_of_a_drill_down_suppress_as_the_whole_of_it_does(zj, token) -> None:
    await keep(zj, "hzsteel-casting", 3, participants=3, version=2)
    seen, cursor = {}, None
    while True:
        params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = await get(zj, token, "/rollups/hzsteel/children", **params)
        seen.update({row["org_id"]: row["suppressed"] for row in page["items"]})
        if (cursor := page["next_cursor"]) is None:
            break

    assert seen == {"hzsteel-casting": True, "hzsteel-forging": True, "hzsteel-rolling": False}


async def test_the_levels_of_a_suppressed_subtree_are_suppressed(zj, token) -> None:
    await keep(zj, "hzbus-depot", 3, version=2)

    body = await get(zj, token, "/rollups/hzbus/levels")

    assert body["total"]["suppressed"]
    assert all(level["suppressed"] for level in body["levels"] if level["orgs"])


async def test_nobody_in_a_group_is_no_small_group(zj, token) -> None:
    body = await get(zj, token, "/rollups/zj-hz/levels")

    superior = next(row for row in body["levels"] if row["level"] == "superior")
    assert (superior["suppressed"], superior["members"]) == (False, 0)


# -- who may see --------------------------------------------------------------------------

ENDPOINTS = ["", "/children", "/levels", "/children.csv", "/children.xlsx"]


@pytest.mark.parametrize(
    ("org", "role", "target", "status"),
    [
        ("zj-hz", "cadre", "hzsteel", 200),  # a cadre above
        ("hzsteel", "cadre", "hzsteel", 200),  # the org's own cadre
        ("zj", "admin", "hzbus", 200),  # an admin above; hzbus is hosted by another node
        ("cn", "cadre", "zj-hz", 200),  # above the node's root
        ("hzsteel", "cadre", "zj-hz", 404),  # below: not theirs to see
        ("hzsteel-rolling", "cadre", "hzsteel-casting", 404),  # a sibling
        ("zj-hz", "member", "zj-hz", 404),
        ("zj-hz", "reviewer", "zj-hz", 404),
        ("js", "cadre", "zj-hz", 404),  # another branch
        ("cn", "cadre", "js-nj", 404),  # nothing of it is hosted here
        ("cn", "cadre", "cn", 404),  # the node hosts no ancestor-or-self of cn
        ("cn", "admin", "nowhere", 404),  # not known
    ],
)
async def test_who_may_see_a_roll_up(zj, token, org, role, target, status) -> None:
    for suffix in ENDPOINTS:
        response = await zj.client.get(
            f"/rollups/{target}{suffix}", params={"year": YEAR}, headers=token(org, role)
        )

        assert response.status_code == status, (suffix, response.text)
        if status == 404:  # one answer whether the org exists or not
            detail = response.json()["detail"]
            assert detail == f"no roll-up of {target} is visible to the caller"


# -- exports ------------------------------------------------------------------------------


async def test_the_csv_export_is_the_drill_down_with_every_child(zj, token) -> None:
    await keep(zj, "hzsteel-casting", 3, version=2)
    response = await zj.client.get(
        "/rollups/hzsteel/children.csv", params={"year": YEAR}, headers=token("zj-hz", "cadre")
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [(r["row"], r["org_id"]) for r in rows] == [
        ("total", "hzsteel"),
        ("child", "hzsteel-casting"),
        ("child", "hzsteel-forging"),
        ("child", "hzsteel-rolling"),
    ]
    assert (rows[0]["members"], rows[0]["committed_fen"]) == ("51", "5000")
    assert (rows[1]["suppressed"], rows[1]["members"]) == ("yes", "")
    assert (rows[3]["suppressed"], rows[3]["members"]) == ("no", "40")
    assert rows[3]["hours_safety_health"] == "80.0"


async def _rename(service, org_id: str, name: str) -> None:
    known = await service.ctx.orgs.get(org_id)
    assert known is not None
    async with service.db.transaction() as session:
        await service.ctx.orgs.apply(
            session, Org(org_id, name, known.parent_id, known.level, known.hosted_by)
        )


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
async def test_a_name_that_would_be_a_formula_is_neutralised_in_both_exports(
    zj, token, start
) -> None:
    name = f'{start}HYPERLINK("http://evil.example","x")'
    await _rename(zj, "hzsteel-forging", name)
    headers = token("zj-hz", "cadre")

    csv_text = (
        await zj.client.get("/rollups/hzsteel/children.csv", params={"year": YEAR}, headers=headers)
    ).content.decode("utf-8")
    xlsx = await zj.client.get(
        "/rollups/hzsteel/children.xlsx", params={"year": YEAR}, headers=headers
    )

    [row] = [r for r in csv.reader(io.StringIO(csv_text)) if "hzsteel-forging" in r]
    assert row[2] == "'" + name
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    cells = [c for r in sheet.iter_rows() for c in r if c.value and "HYPERLINK" in str(c.value)]
    assert [(c.value, c.data_type) for c in cells] == [("'" + name, "s")]


async def test_the_xlsx_export_holds_the_same_rows_as_the_csv(zj, token) -> None:
    response = await zj.client.get(
        "/rollups/zj-hz/children.xlsx", params={"year": YEAR}, headers=token("zj-hz", "cadre")
    )

    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    header = rows[0]
    assert header[:3] == ["row", "org_id", "name"]
    members = header.index("members")
    assert [(r[0], r[1], r[members]) for r in rows[1:]] == [
        ("total", "zj-hz", 80),
        ("child", "hzbus", 20),
        ("child", "hzsteel", 60),
    ]
