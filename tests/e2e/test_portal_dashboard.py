"""The superior's dashboard in a real browser against the running federation: members of a
new union under the enterprise take part in its programme; the city union's cadre (at the
superior node) sees the roll-up chart, drills down one level at a time to that union and its
figures, and downloads the CSV and XLSX of what is shown."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from deploy.local.federation import ENTERPRISE_NODE, SUPERIOR_NODE
from portal.people import Person
from tests.e2e.browser import PHONE, running_portal, shoot, side_scroll, sign_in
from tests.e2e.conftest import RunningFederation
from tests.e2e.helpers import enrol_all, new_members, wait_until

pytestmark = pytest.mark.e2e

MEMBERS, TAKING_PART = 10, 4  # 40 % participation, a group large enough to be shown
CITY = "zj-hz"


@dataclass
class Dashboarded:
    url: str
    org: str  # the new union, below hzsteel
    name: str


def register_union(fed: RunningFederation, org: str, name: str) -> None:
    """An admin of hzsteel registers a grassroots union below it; the superior replicates it."""
    admin = fed.federation.client(
        ENTERPRISE_NODE, "enrollment", org="hzsteel", roles="admin", sub="admin@hzsteel"
    )
    admin.post(
        "/orgs", {"org_id": org, "name": name, "parent_id": "hzsteel", "level": "grassroots"}
    )
    admin.close()
    top = fed.federation.admin(SUPERIOR_NODE)
    top.wait_for(f"/orgs/{org}", lambda _: True)
    top.close()


@pytest.fixture(scope="module")
def dashboarded(running_federation: RunningFederation) -> Iterator[Dashboarded]:
    fed = running_federation
    org = f"hzsteel-d{uuid.uuid4().hex[:6]}"
    name = f"看板测试工会 {org[-6:]}"
    register_union(fed, org, name)
    members = new_members(fed.federation, MEMBERS, org=org)
    # Five more in a sibling: were it a group of one to four (other tests' members), the new
    # union could be suppressed beside it as its complement (the roll-ups' small groups).
    new_members(fed.federation, 5, org="hzsteel-rolling")
    start = fed.now().replace(microsecond=0) + timedelta(days=7)
    programme = fed.federation.publish_programme(
        ENTERPRISE_NODE,
        org,
        MEMBERS,
        title=f"Dashboard course {org}",
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=8)).isoformat(),
    )
    enrol_all(fed.federation, members[:TAKING_PART], programme["programme_id"])
    superior = fed.federation.client(
        SUPERIOR_NODE, "enrollment", org=CITY, roles="cadre", sub=f"statistics@{CITY}"
    )
    # The enterprise node publishes its snapshot; the superior sums it.
    wait_until(
        lambda: superior.get(f"/rollups/{org}").get("participants") == TAKING_PART,
        timeout=90,
        what="the superior's roll-up counts the enrollments",
    )
    superior.close()
    people = [Person("city-cadre", "杭州市总工会 干部", CITY, ("cadre",))]
    with running_portal(fed, SUPERIOR_NODE, people, "portal-dashboards") as url:
        yield Dashboarded(url, org, name)


def participation_of(page: Page, name: str) -> str:
    row = page.locator("#dash-participation tbody tr", has=page.locator("th", has_text=name))
    return row.locator("td").last.inner_text()


def downloaded(page: Page, link_text: str) -> Path:
    with page.expect_download() as download:
        page.get_by_role("link", name=link_text).click()
    return Path(download.value.path())


def test_the_superior_sees_the_roll_up_chart_and_drills_down_one_level_at_a_time(
    dashboarded: Dashboarded, browser: Browser
) -> None:
    page = sign_in(browser, dashboarded.url, "city-cadre")
    page.goto("/dashboard")
    expect(page.locator("h1")).to_contain_text("杭州市总工会")
    for chart in ("participation", "hours", "money", "adoption"):
        expect(page.locator(f"#dash-{chart} svg")).to_be_visible()
    expect(page.locator("#dash-participation svg rect.bar").first).to_be_visible()
    shoot(page, "dashboards-dashboard")

    # One level down: the enterprise, with a crumb back up to the city union.
    page.locator("a[data-org=hzsteel]").click()
    expect(page).to_have_url(re.compile(r"/dashboard\?org=hzsteel&year=\d{4}$"))
    expect(page.locator("nav.crumbs a", has_text="杭州市总工会")).to_be_visible()
    assert participation_of(page, dashboarded.name) == "40%"  # 4 of 10, enrolled above
    bars = page.locator("#dash-participation svg text.bar-value").all_text_contents()
    assert "40%" in bars

    # Exports of what is shown, Chinese names intact.
    rows = list(csv.reader(io.StringIO(downloaded(page, "下载CSV").read_text("utf-8-sig"))))
    mine = next(r for r in rows if r[0] == dashboarded.org)
    assert mine[1] == dashboarded.name and mine[3:5] == [str(MEMBERS), str(TAKING_PART)]
    assert rows[1][0] == "hzsteel"  # the total first, then each child
    # The download is saved without a suffix, by which openpyxl would judge it: read bytes.
    xlsx = io.BytesIO(downloaded(page, "XLSX").read_bytes())
    sheet = load_workbook(xlsx, read_only=True).active
    assert sheet is not None
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert [r[0] for r in cells] == [r[0] for r in rows]
    assert next(r for r in cells if r[0] == dashboarded.org)[3:5] == [MEMBERS, TAKING_PART]

    # One more level: the new union itself; nothing below it.
    page.locator(f"a[data-org={dashboarded.org}]").click()
    expect(page.locator("h1")).to_contain_text(dashboarded.name)
    expect(page.locator("nav.crumbs a", has_text="杭州市总工会")).to_be_visible()
    assert participation_of(page, dashboarded.name) == "40%"
    expect(page.locator(".empty")).to_contain_text("没有下级组织")
    page.set_viewport_size(PHONE)
    assert side_scroll(page) == 0
    page.goto("/dashboard/programmes")
    expect(page.locator("h1")).to_have_text("本组织及下级的活动项目")
    shoot(page, "dashboards-programmes")


def test_an_org_outside_the_cadres_subtree_is_not_shown(
    dashboarded: Dashboarded, browser: Browser
) -> None:
    page = sign_in(browser, dashboarded.url, "city-cadre")
    answer = page.goto("/dashboard?org=zj")  # the province: above the city union
    assert answer is not None and answer.status == 404
    expect(page.locator(".problem")).to_be_visible()
