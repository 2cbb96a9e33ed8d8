"""Every main page of the portal (the header's links, read from the app's navigation at test
time, so pages added later are covered too), for a member and for a cadre, checked in a
real browser: no serious or critical axe-core violation at desktop and at 360 px, no side
scrolling at 360 px, and a screenshot of each. The sign-in and the 403 pages too."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from deploy.local.federation import ENTERPRISE_NODE
from portal.app import create_app
from portal.nav import NavItem
from portal.people import Person
from portal.testing import portal_settings
from tests.e2e.browser import (
    DESKTOP,
    PHONE,
    axe_violations,
    running_portal,
    shoot,
    side_scroll,
    sign_in,
)
from tests.e2e.conftest import RunningFederation
from tests.e2e.helpers import new_members

pytestmark = pytest.mark.e2e


def main_pages() -> list[NavItem]:
    """The header's links as the portal's app declares them."""
    with tempfile.TemporaryDirectory() as folder:
        nav: tuple[NavItem, ...] = create_app(portal_settings(Path(folder))).state.nav
    return list(nav)


@dataclass
class Portal:
    url: str
    pages: list[NavItem]


@pytest.fixture(scope="module")
def portal(running_federation: RunningFederation) -> Iterator[Portal]:
    [member] = new_members(running_federation.federation, 1, language="zh")
    people = [
        Person("member", member["name"], member["home_org"], ("member",), member["member_id"]),
        Person("cadre", "杭州钢铁工会 干部", "hzsteel", ("cadre",)),  # an org with orgs below
    ]
    with running_portal(running_federation, ENTERPRISE_NODE, people, "portal-a11y") as url:
        yield Portal(url, main_pages())


def problems_on(page: Page, path: str, shot: str) -> dict[str, Any]:
    """What is wrong with the page at `path`, at desktop and at phone width."""
    found: dict[str, Any] = {}
    page.set_viewport_size(DESKTOP)
    answer = page.goto(path)
    if answer is None or answer.status >= 500:
        found[f"{path} status"] = None if answer is None else answer.status
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        if violations := axe_violations(page):
            found[f"{path} {label}"] = violations
    if overflow := side_scroll(page):
        found[f"{path} side scroll at 360 px"] = overflow
    shoot(page, shot)
    return found


def slug(path: str) -> str:
    return path.strip("/").replace("/", "-") or "home"


@pytest.mark.parametrize("person", ["member", "cadre"])
def test_each_main_page_has_no_serious_accessibility_violation_and_fits_a_phone(
    portal: Portal, browser: Browser, person: str
) -> None:
    pages = [item.href for item in portal.pages if person in item.roles]
    assert "/programmes" in pages  # the navigation was read
    page = sign_in(browser, portal.url, person)
    found: dict[str, Any] = {}
    for path in pages:
        found |= problems_on(page, path, f"a11y-{person}-{slug(path)}")
    if person == "member":  # a cadre's page refused: the 403 page is checked too
        cadre_only = next(i.href for i in portal.pages if "member" not in i.roles)
        found |= problems_on(page, cadre_only, "a11y-member-403")
    page.context.close()
    assert not found, found


def test_the_sign_in_page_has_no_serious_accessibility_violation(
    portal: Portal, browser: Browser
) -> None:
    context = browser.new_context(base_url=portal.url)
    page = context.new_page()
    found = problems_on(page, "/signin", "a11y-signin")
    context.close()
    assert not found, found
