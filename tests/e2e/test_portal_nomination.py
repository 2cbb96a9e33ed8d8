# Chinese text is written with Chinese punctuation (full-width comma and colon).
# ruff: noqa: RUF001
"""A nomination climbs through two nodes' portals in a real browser (Debian's chromium,
driven by Playwright) against the running federation: the superior's cadre creates a scheme
and opens a round (superior node); the grassroots cadre files a nomination, the enterprise
cadre returns it with reasons, the grassroots corrects it, the enterprise endorses (enterprise
node); the department's officer clears it, a reviewer from the nominee's enterprise sees it
marked recused, the panel's reviewer scores it, the owner puts it on public notice; a member
objects on the notice (enterprise node), the owner answers, decides once the notice is over,
closes and publishes the round; the grassroots cadre sees it granted. Screenshots of each
page, desktop and phone, go to .data/screenshots/."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from deploy.local.federation import ENTERPRISE_NODE, SUPERIOR_NODE
from portal.people import Person
from tests.e2e.browser import (
    DESKTOP,
    STEP_MS,
    fits_a_phone,
    reloaded_until,
    running_portal,
    shoot,
    sign_in,
)
from tests.e2e.conftest import RunningFederation
from tests.e2e.helpers import new_members

pytestmark = pytest.mark.e2e

HOME, ENTERPRISE, OWNER = "hzsteel-rolling", "hzsteel", "zj-hz"
# A demo staff account's `sub` is `<first role>@<org>` (portal.people.Person.sub): the panel's
# reviewer, who is also the discipline department's officer, and one from the enterprise.
PANEL, RECUSED = f"reviewer@{OWNER}", f"reviewer@{ENTERPRISE}"


@dataclass
class Portals:
    fed: RunningFederation
    enterprise: str  # the portal of node hzsteel: the grassroots org, its enterprise, a member
    superior: str  # the portal of node zj: the scheme's owner and its staff
    nominee: dict[str, Any]


@pytest.fixture(scope="module")
def portals(running_federation: RunningFederation) -> Iterator[Portals]:
    nominee, objector = new_members(running_federation.federation, 2, org=HOME, language="zh")
    enterprise_people = [
        Person("grassroots", "轧钢车间工会 干部", HOME, ("cadre",)),
        Person("enterprise", "杭钢集团工会 干部", ENTERPRISE, ("cadre",)),
        Person("objector", objector["name"], HOME, ("member",), objector["member_id"]),
    ]
    superior_people = [
        Person("owner", "杭州市总工会 干部", OWNER, ("cadre",)),
        Person("panel", "评审专家", OWNER, ("reviewer",)),
        Person("recused", "杭钢 评审专家", ENTERPRISE, ("reviewer",)),
    ]
    with (
        running_portal(
            running_federation, ENTERPRISE_NODE, enterprise_people, "portal-nomination"
        ) as enterprise,
        running_portal(
            running_federation, SUPERIOR_NODE, superior_people, "portal-nomination-superior"
        ) as superior,
    ):
        yield Portals(running_federation, enterprise, superior, nominee)


def flash(page: Page, text: str) -> None:
    expect(page.locator(".flash")).to_contain_text(text)


def create_scheme_and_round(owner: Page, portals: Portals, title: str) -> tuple[str, str]:
    owner.goto("/schemes")
    shoot(owner, "nomination-schemes")
    owner.select_option("#kind", "model_worker")
    owner.fill("#title", title)
    owner.check("input[name=level_enterprise]")
    owner.fill("#veto", f"discipline {PANEL}")
    owner.fill("#reviewers", f"{PANEL} {OWNER}\n{RECUSED} {ENTERPRISE}")
    owner.fill("#min_reviews", "1")
    owner.fill("#cash_yuan", "1000")
    owner.fill("#budget_yuan", "100000")
    owner.click("#create-scheme")
    flash(owner, "评选项目已创建")
    scheme_id = owner.url.rsplit("/", 1)[1]
    now = portals.fed.now()
    owner.fill("#name", f"{now.year} 年度")
    owner.fill("#year", str(now.year))
    owner.fill("#deadline", (now + timedelta(days=30)).date().isoformat())
    owner.click("#open-round")
    flash(owner, "轮次已开放")
    opened = owner.locator("#round-list li[data-status=open]")
    expect(opened).to_have_count(1)
    shoot(owner, "nomination-scheme")
    return scheme_id, str(opened.get_attribute("data-round"))


def file_nomination(grassroots: Page, portals: Portals, round_value: str) -> str:
    grassroots.goto("/nominations/new")
    reloaded_until(grassroots, f'#round option[value="{round_value}"]')
    grassroots.select_option("#round", round_value)
    grassroots.fill("#member_ids", portals.nominee["member_id"])
    grassroots.fill("#achievements", "轧机废品率由 3.1% 降至 2.0%。")
    shoot(grassroots, "nomination-new")
    for _ in range(STEP_MS // 1000):  # the node's awards may still be learning the member
        grassroots.click("#file-nomination")
        if "/nominations/new" not in grassroots.url:
            break
        grassroots.wait_for_timeout(1000)
    flash(grassroots, "推荐已提交")
    return grassroots.url.rsplit("/", 1)[1]


def test_a_nomination_climbs_from_the_grassroots_to_the_superiors_decision_in_the_portals(
    running_federation: RunningFederation, portals: Portals, browser: Browser
) -> None:
    title = f"门户劳动模范 {uuid.uuid4().hex[:6]}"
    owner = sign_in(browser, portals.superior, "owner", viewport=DESKTOP)
    scheme_id, round_id = create_scheme_and_round(owner, portals, title)

    # Enterprise node: filed by the grassroots, returned with reasons, corrected, endorsed.
    grassroots = sign_in(browser, portals.enterprise, "grassroots", viewport=DESKTOP)
    nid = file_nomination(grassroots, portals, f"{scheme_id}/{round_id}")
    shoot(grassroots, "nomination-detail")
    enterprise = sign_in(browser, portals.enterprise, "enterprise", viewport=DESKTOP)
    enterprise.goto("/nominations")
    reloaded_until(
        enterprise, f"#nomination-list li[data-nomination='{nid}'][data-status=endorsing]"
    )
    expect(enterprise.locator(f"li[data-nomination='{nid}'] .yours")).to_be_visible()
    shoot(enterprise, "nomination-list")
    enterprise.goto(f"/nominations/{nid}")
    enterprise.fill("#reasons", "请补充废品率的统计口径。")
    enterprise.click("#return")
    flash(enterprise, "已退回推荐单位")
    grassroots.goto(f"/nominations/{nid}")
    grassroots.fill("#achievements", "2025 年轧机废品率由 3.1% 降至 2.0%（质检部统计）。")
    grassroots.fill("#note", "补充了统计口径。")
    grassroots.click("#resubmit")
    flash(grassroots, "已重新提交")
    enterprise.goto(f"/nominations/{nid}")
    enterprise.click("#endorse")
    flash(enterprise, "已同意推荐")

    # Superior node: the officer clears it, recusal shows, the panel's reviewer scores it.
    panel = sign_in(browser, portals.superior, "panel", viewport=DESKTOP)
    panel.goto("/reviews")
    card = f"#review-queue li[data-nomination='{nid}']"
    reloaded_until(panel, f"{card}[data-status=veto_check]")
    panel.locator(f"{card} .veto-form button").click()
    flash(panel, "审查结论已记录")
    recused = sign_in(browser, portals.superior, "recused", viewport=DESKTOP)
    recused.goto("/reviews")
    expect(recused.locator(f"{card}.recused .recused-mark")).to_be_visible()
    expect(recused.locator(f"{card} .score-form")).to_have_count(0)
    shoot(recused, "nomination-reviews-recused")
    panel.goto("/reviews")
    panel.fill(f"#score-{nid}", "92")
    shoot(panel, "nomination-reviews")
    panel.locator(f"{card} .score-form button").click()
    flash(panel, "评分已提交")

    # The owner puts it on public notice; a member of the subtree objects at their node.
    owner.goto(f"/reviews/rounds/{round_id}")
    owner.check(f"input[name=shortlist][value='{nid}']")
    shoot(owner, "nomination-decisions")
    owner.click("#publish-notice")
    flash(owner, "公示已发布")
    member = sign_in(browser, portals.enterprise, "objector", viewport=DESKTOP)
    member.goto("/notices")
    reloaded_until(member, f"#notice-list a:has-text('{title}')")
    shoot(member, "nomination-notices")
    member.locator(f"#notice-list a:has-text('{title}')").click()
    expect(member.locator("#shortlist")).to_contain_text(portals.nominee["name"])
    member.select_option("#nomination_id", nid)
    member.fill("#reasons", "废品率数据为审计前测得。")
    shoot(member, "nomination-notice")
    member.click("#file-objection")
    flash(member, "异议已提交")
    expect(member.locator("#objection-status")).to_have_attribute("data-status", "open")
    shoot(member, "nomination-objection")
    notice_path = str(member.locator("main a[href^='/notices/']").first.get_attribute("href"))

    # The owner answers the objection; the member sees the answer at home.
    owner.goto(notice_path)
    reloaded_until(owner, "#objection-list li[data-status=open]")
    objection = owner.locator("#objection-list li[data-status=open]").first
    objection.locator("input[name=upheld][value=no]").check()
    objection.locator("textarea[name=answer]").fill("审计后已复测，数据属实。")
    shoot(owner, "nomination-objections")
    objection.locator("button").click()
    flash(owner, "答复已发送")
    reloaded_until(member, "#objection-status[data-status=dismissed]")
    expect(member.locator("#objection-answer")).to_contain_text("审计后已复测")

    # The decision waits for the notice to end, then the round is closed and published.
    decision = f"#round-nominations li[data-nomination='{nid}']"
    owner.goto(f"/reviews/rounds/{round_id}")
    owner.check(f"{decision} input[name=granted][value=yes]")
    owner.fill(f"#reasons-{nid}", "事迹突出，异议已答复。")
    owner.locator(f"{decision} .decision-form button").click()
    expect(owner.locator(f"{decision} .problem")).to_be_visible()  # the notice still runs
    portals.fed.advance_clock(8 * 24 * 3600)
    owner.check(f"{decision} input[name=granted][value=yes]")
    owner.locator(f"{decision} .decision-form button").click()
    flash(owner, "决定已记录")
    owner.click("#close-round")
    flash(owner, "轮次已结束推荐")
    owner.click("#publish-round")
    flash(owner, "评选结果已发布")
    expect(owner.locator("#round-status")).to_have_attribute("data-status", "published")
    shoot(owner, "nomination-published")

    grassroots.goto(f"/nominations/{nid}")
    reloaded_until(grassroots, "#nomination-status[data-status=granted]")
    shoot(grassroots, "nomination-granted")

    for page, paths in (
        (grassroots, ["/nominations", f"/nominations/{nid}", "/nominations/new"]),
        (member, ["/notices", notice_path]),
        (owner, ["/schemes", f"/schemes/{scheme_id}", f"/reviews/rounds/{round_id}"]),
        (panel, ["/reviews"]),
    ):
        for path in paths:
            page.goto(path)
            fits_a_phone(page)
    for page in (owner, grassroots, enterprise, panel, recused, member):
        page.context.close()


def test_a_member_cannot_open_the_cadre_and_reviewer_pages(
    running_federation: RunningFederation, portals: Portals, browser: Browser
) -> None:
    member = sign_in(browser, portals.enterprise, "objector", viewport=DESKTOP)
    for path in ("/nominations", "/schemes", "/reviews"):
        answer = member.goto(path)
        assert answer is not None and answer.status == 403, path
        expect(member.locator(".problem")).to_contain_text("您无权查看此页面")
    member.context.close()
