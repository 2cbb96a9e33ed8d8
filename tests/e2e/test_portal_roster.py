"""The enrollment side of the enterprise node's portal, for a grassroots cadre, in a real
browser against the running federation: a roster with bad rows is imported while the
progress bar moves, its error report is downloaded through the portal and names the bad
rows; a request waiting for approval is approved. Screenshots of each page of the area
(desktop and phone) go to .data/screenshots/; axe-core finds no serious violation."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, FilePayload, Page, expect

from deploy.local.federation import ENTERPRISE_NODE
from portal.people import Person
from tests.e2e.browser import (
    DESKTOP,
    PHONE,
    STEP_MS,
    axe_violations,
    running_portal,
    shoot,
    side_scroll,
    sign_in,
)
from tests.e2e.conftest import RunningFederation
from tests.e2e.helpers import new_members

pytestmark = pytest.mark.e2e
ORG = "hzsteel-rolling"


@dataclass
class RosterPortal:
    url: str
    waiting: dict[str, Any]  # a member whose request waits for the cadre's approval
    title: str


@pytest.fixture(scope="module")
def portal(running_federation: RunningFederation) -> Iterator[RosterPortal]:
    fed = running_federation.federation
    [waiting] = new_members(fed, 1, org=ORG, language="zh")
    title = f"Approval course {uuid.uuid4().hex[:8]}"
    start = running_federation.now().replace(microsecond=0) + timedelta(days=7)
    programme = fed.publish_programme(
        ENTERPRISE_NODE, ORG, capacity=5, title=title, requires_approval=True,
        starts_at=start.isoformat(), ends_at=(start + timedelta(days=1)).isoformat(),
    )  # fmt: skip
    client = fed.member_client(ENTERPRISE_NODE, waiting)
    try:
        client.post("/enrollments", {"programme_id": programme["programme_id"]}, expect=202)
    finally:
        client.close()
    people = [
        Person("cadre", "轧钢车间工会 干部", ORG, ("cadre",)),
        Person("member", waiting["name"], ORG, ("member",), waiting["member_id"]),
    ]
    with running_portal(running_federation, ENTERPRISE_NODE, people, "portal-roster") as url:
        yield RosterPortal(url, waiting, title)


def roster_csv(tag: str) -> bytes:
    """Six rows; line 3 has a bad e-mail, line 5 no name, line 7 repeats line 2's number."""
    rows = [
        "姓名,工号,邮箱",
        f"Roster {tag} A,R{tag}-1,a{tag}@example.org",
        f"Roster {tag} B,R{tag}-2,not-an-email",
        f"Roster {tag} C,R{tag}-3,",
        f",R{tag}-4,d{tag}@example.org",
        f"Roster {tag} E,R{tag}-5,e{tag}@example.org",
        f"Roster {tag} F,R{tag}-1,f{tag}@example.org",
    ]
    return ("\n".join(rows) + "\n").encode()


def no_serious_violation(page: Page) -> None:
    found = axe_violations(page)
    assert found == [], found


def test_a_cadre_imports_a_roster_with_errors_and_downloads_the_report(
    portal: RosterPortal, browser: Browser, tmp_path: Path
) -> None:
    page = sign_in(browser, portal.url, "cadre", viewport=DESKTOP, accept_downloads=True)
    page.goto("/roster")
    no_serious_violation(page)
    shoot(page, "roster")
    upload: FilePayload = {
        "name": "roster.csv",
        "mimeType": "text/csv",
        "buffer": roster_csv(uuid.uuid4().hex[:6]),
    }
    page.set_input_files("#roster-file", files=[upload])
    page.click("#roster-upload")
    expect(page.locator("h1")).to_have_text("名册导入进度")
    bar = page.locator("#roster-progress")
    expect(bar).to_be_visible()
    expect(bar).to_have_attribute("max", "6")
    # portal.js moves the bar and reloads the page when the job is done: the report link.
    report = page.locator("#roster-errors")
    expect(report).to_be_visible(timeout=STEP_MS)
    expect(bar).to_have_attribute("value", "6")
    no_serious_violation(page)
    shoot(page, "roster-import")
    with page.expect_download() as download:
        report.click()
    saved = tmp_path / "errors.csv"
    download.value.save_as(saved)
    lines = saved.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "line,column,reason"
    reported = {line.split(",", 1)[0] for line in lines[1:]}
    assert reported == {"3", "5", "7"}, lines
    assert any(line.startswith("3,邮箱,") for line in lines), lines  # the file's own title
    page.set_viewport_size(PHONE)
    assert side_scroll(page) == 0


def test_a_cadre_approves_a_waiting_request(portal: RosterPortal, browser: Browser) -> None:
    page = sign_in(browser, portal.url, "cadre", viewport=DESKTOP)
    page.goto("/approvals")
    card = page.locator("#approvals-list li", has_text=portal.title)
    for _ in range(STEP_MS // 500):  # the request reaches the home node's queue first
        if card.count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(card).to_have_count(1)
    no_serious_violation(page)
    shoot(page, "approvals")
    card.get_by_role("button", name="不通过").click()  # without a reason: refused, kept
    expect(page.locator(".flash.error")).to_contain_text("驳回申请时请填写理由")
    card = page.locator("#approvals-list li", has_text=portal.title)
    card.get_by_role("button", name="通过", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("已通过")
    expect(page.locator("#approvals-list li", has_text=portal.title)).to_have_count(0)


@pytest.mark.parametrize(
    ("person", "path", "name"),
    [
        ("cadre", "/org/programmes", "org-programmes"),
        ("cadre", "/budget", "budget"),
        ("cadre", "/deliveries", "deliveries"),
        ("member", "/record", "record"),
        ("member", "/preferences", "preferences"),
    ],
)
def test_each_page_of_the_area_opens_fits_a_phone_and_passes_axe(
    portal: RosterPortal, browser: Browser, person: str, path: str, name: str
) -> None:
    page = sign_in(browser, portal.url, person, viewport=DESKTOP)
    page.goto(path)
    expect(page.locator("h1")).to_be_visible()
    assert "Traceback" not in page.content()
    no_serious_violation(page)
    shoot(page, name)
    page.set_viewport_size(PHONE)
    assert side_scroll(page) == 0, path
