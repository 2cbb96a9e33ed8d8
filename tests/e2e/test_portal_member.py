"""The enterprise node's portal in a real browser (Debian's chromium, driven by Playwright)
against the running federation: a member enrols and sees the outcome arrive live, cancels,
and the waitlisted member takes the offered seat; languages; a phone's width; CSRF and the
cadre-only page. Screenshots of each page, desktop and phone, go to .data/screenshots/."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    Page,
    expect,
)

from deploy.local.federation import ENTERPRISE_NODE
from portal.people import Person
from tests.e2e.browser import DESKTOP, PHONE, STEP_MS, running_portal, shoot, side_scroll, sign_in
from tests.e2e.conftest import RunningFederation
from tests.e2e.helpers import new_members

pytestmark = pytest.mark.e2e


@dataclass
class PortalUnderTest:
    url: str
    programme_id: str
    title: str
    first: dict[str, Any]  # enrols, is confirmed, cancels
    second: dict[str, Any]  # waitlisted, then offered the seat


@pytest.fixture(scope="module")
def portal(running_federation: RunningFederation) -> Iterator[PortalUnderTest]:
    fed = running_federation.federation
    first, second = new_members(fed, 2, language="zh")
    title = f"Portal course {uuid.uuid4().hex[:8]}"
    # A week ahead of the services' clock (earlier tests may have moved it on).
    start = running_federation.now().replace(microsecond=0) + timedelta(days=7)
    programme = fed.publish_programme(
        ENTERPRISE_NODE,
        "hzsteel",
        capacity=1,
        title=title,
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(days=1)).isoformat(),
    )
    people = [
        Person("first", first["name"], first["home_org"], ("member",), first["member_id"]),
        Person("second", second["name"], second["home_org"], ("member",), second["member_id"]),
        Person("cadre", "Rolling cadre", "hzsteel-rolling", ("cadre",)),
    ]
    with running_portal(running_federation, ENTERPRISE_NODE, people, "portal-member") as url:
        yield PortalUnderTest(url, programme["programme_id"], title, first, second)


def signed_in(browser: Browser, portal: PortalUnderTest, person: str, **options: Any) -> Page:
    page = sign_in(browser, portal.url, person, **options)
    expect(page).to_have_url(f"{portal.url}/programmes")
    return page


def open_programme(page: Page, portal: PortalUnderTest) -> None:
    page.goto(f"/programmes?q={portal.title}")
    link = page.get_by_role("link", name=portal.title)
    while not link.count():  # other tests' programmes may come first: read on
        page.get_by_role("link", name="下一页").click()
    link.click()
    expect(page.locator("h1")).to_have_text(portal.title)


def status_becomes(page: Page, status: str) -> None:
    card = page.locator(f"#enrollment-list li[data-status={status}]")
    for _ in range(STEP_MS // 500):
        if card.count():
            return
        page.wait_for_timeout(500)
        page.reload()
    expect(card).to_have_count(1)


def test_a_member_enrols_sees_it_arrive_live_cancels_and_the_next_in_line_takes_the_seat(
    browser: Browser, portal: PortalUnderTest
) -> None:
    first = signed_in(browser, portal, "first", viewport=DESKTOP)
    shoot(first, "programmes")
    inbox = first.context.new_page()  # a second tab, left open on the inbox
    inbox.goto("/inbox")
    expect(inbox.locator("#inbox-empty")).to_be_visible()
    shoot(inbox, "inbox-empty")

    open_programme(first, portal)
    shoot(first, "programme")
    first.click("#enrol")
    expect(first).to_have_url(f"{portal.url}/enrollments")
    expect(first.locator(".flash")).to_contain_text("报名申请已提交")

    # The confirmation reaches the open inbox tab without a reload: the script put it there.
    expect(inbox.locator("#inbox-list li.fresh")).to_have_count(1, timeout=STEP_MS)
    expect(inbox.locator("#unread-count")).to_have_text("1", timeout=STEP_MS)
    expect(inbox.locator("#inbox-empty")).to_be_hidden()
    shoot(inbox, "inbox")
    status_becomes(first, "confirmed")
    shoot(first, "enrollments")

    second = signed_in(browser, portal, "second", viewport=PHONE, is_mobile=True)
    open_programme(second, portal)
    second.click("#enrol")
    status_becomes(second, "waitlisted")
    expect(second.locator("#enrollment-list li").first).to_contain_text("候补位次: 1")

    first.locator("#enrollment-list li[data-status=confirmed] button.cancel").click()
    expect(first.locator(".flash")).to_contain_text("已申请取消")
    status_becomes(first, "cancelled")

    status_becomes(second, "offered")
    second.locator("#enrollment-list button.accept").click()
    expect(second.locator(".flash")).to_contain_text("已接受名额")
    status_becomes(second, "confirmed")
    first.context.close()
    second.context.close()


def test_switching_to_english_and_back_keeps_the_page_and_phones_need_no_side_scrolling(
    browser: Browser, portal: PortalUnderTest
) -> None:
    page = signed_in(browser, portal, "second", viewport=PHONE, is_mobile=True)
    page.goto("/enrollments")
    page.click("#lang-switch")
    expect(page).to_have_url(f"{portal.url}/enrollments")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("My enrollments")
    page.click("#lang-switch")
    expect(page).to_have_url(f"{portal.url}/enrollments")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    for path in ("/programmes", f"/programmes/{portal.programme_id}", "/enrollments", "/inbox"):
        page.goto(path)
        overflow = side_scroll(page)
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 360 px"
    page.context.close()


def test_a_post_without_the_csrf_token_and_a_member_on_a_cadre_page_get_403_pages(
    browser: Browser, portal: PortalUnderTest
) -> None:
    page = signed_in(browser, portal, "first", viewport=DESKTOP)
    forged = page.request.post(
        f"/programmes/{portal.programme_id}/enrol", form={"next": "/"}, max_redirects=0
    )
    assert forged.status == 403
    assert "表单已过期或来源不明" in forged.text()

    answer = page.goto("/approvals")
    assert answer is not None and answer.status == 403
    expect(page.locator(".problem")).to_contain_text("您无权查看此页面")
    assert "Traceback" not in page.content()
    shoot(page, "forbidden")

    page.goto("/signin")
    shoot(page, "signin")
    page.context.close()
