"""What every browser test of a portal shares: Debian's chromium driven by Playwright (no
browser download), a portal process for a node with its demo people, signing in as one of
them, screenshots at desktop and phone width kept in .data/screenshots/, and the axe-core
accessibility check run in the page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from deploy.local.portal import portal_process
from portal.people import Person
from tests.e2e.conftest import RunningFederation

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".data" / "screenshots"
# Fetched by scripts/bootstrap (its AXE_VERSION): no network at test time.
AXE = Path(__file__).resolve().parents[2] / ".data" / "vendor" / "axe-core-4.14.1" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 360, "height": 740}
STEP_MS = 45_000  # an event crosses Kafka and two services before a page shows it


@contextmanager
def running_portal(
    running_federation: RunningFederation, node: str, people: list[Person], name: str
) -> Iterator[str]:
    """A portal process for `node` signing in `people`; yields its base URL."""
    process = portal_process(
        running_federation.node(node), running_federation.keys_dir, people, name=name
    )
    process.start()
    try:
        process.wait_ready()
        yield process.url
    finally:
        process.stop()


def sign_in(browser: Browser, url: str, person: str, **options: Any) -> Page:
    """A fresh browser context signed in as the demo person with id `person`."""
    context: BrowserContext = browser.new_context(base_url=url, **options)
    page = context.new_page()
    page.goto("/signin")
    page.click(f"button[data-person={person}]")
    expect(page).not_to_have_url(f"{url}/signin")
    return page


def shoot(page: Page, name: str) -> None:
    """The page as it is, at desktop and at phone width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.screenshot(path=str(SCREENSHOTS / f"portal-{name}-{label}.png"), full_page=True)
    if size:
        page.set_viewport_size(size)


def side_scroll(page: Page) -> int:
    """How far the page scrolls sideways (0 when it fits the viewport)."""
    overflow: int = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return overflow


def fits_a_phone(page: Page) -> None:
    """The page does not scroll sideways at 360 px; the viewport is put back after."""
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    overflow = side_scroll(page)
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at 360 px"
    if size:
        page.set_viewport_size(size)


def reloaded_until(page: Page, selector: str) -> None:
    """Reload until `selector` is on the page: a step crosses Kafka between nodes first."""
    found = page.locator(selector)
    for _ in range(STEP_MS // 500):
        if found.count():
            return
        page.wait_for_timeout(500)
        page.reload()
    expect(found.first).to_be_visible()


@cache
def _axe_source() -> str:
    if not AXE.exists():
        raise FileNotFoundError(f"{AXE} is missing: run scripts/bootstrap (it fetches axe-core)")
    return AXE.read_text(encoding="utf-8")


def axe_violations(
    page: Page, impacts: tuple[str, ...] = ("serious", "critical")
) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA (and best-practice) violations on the page as it is now, of
    the given impacts: rule id, impact, help text and the offending elements. The script is
    evaluated through the driver, which the page's CSP does not govern (a script tag would
    be refused, as it should be)."""
    if page.evaluate("typeof window.axe") == "undefined":
        page.evaluate(_axe_source())
    found: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
            const result = await window.axe.run(document, {
                runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
            });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
            }));
        }""",
        AXE_TAGS,
    )
    return [v for v in found if v["impact"] in impacts]
