"""The enterprise node's portal in a real browser against the running federation: a member
submits a rationalization proposal, the rolling mill's cadre evaluates it step by step to
its reward, and the member follows every step; the cadre grants an immediate reward, found
by name, and the quota left drops by its amount; the member sees both on their honours
page. Screenshots of each page, desktop and phone, go to .data/screenshots/."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from deploy.local.federation import ENTERPRISE_NODE
from portal.people import Person
from tests.e2e.browser import (
    DESKTOP,
    fits_a_phone,
    reloaded_until,
    running_portal,
    shoot,
    sign_in,
)
from tests.e2e.conftest import RunningFederation
from tests.e2e.helpers import new_members

pytestmark = pytest.mark.e2e

ROLLING = "hzsteel-rolling"


@dataclass
class HonoursPortal:
    url: str
    member: dict[str, Any]


@pytest.fixture(scope="module")
def portal(running_federation: RunningFederation) -> Iterator[HonoursPortal]:
    fed = running_federation.federation
    [member] = new_members(fed, 1, language="zh")
    # The steel company sets the rolling mill's monthly quota (a mill never sets its own).
    company = fed.client(ENTERPRISE_NODE, "awards", org="hzsteel", roles="cadre", sub="cadre@hs")
    quota = {"count": 1000, "amount_fen": 100_000_000, "period": "month"}
    company.http.put(f"/orgs/{ROLLING}/reward-quota", json=quota).raise_for_status()
    company.close()
    # Awards learns of the member from the node's members topic: wait until it can pick them.
    cadre = fed.client(ENTERPRISE_NODE, "awards", org=ROLLING, roles="cadre", sub="cadre@r")
    cadre.wait_for(
        f"/orgs/{ROLLING}/members?q={member['name']}", lambda body: bool(body["items"]), 60
    )
    cadre.close()
    people = [
        Person("member", member["name"], ROLLING, ("member",), member["member_id"]),
        Person("cadre", "轧钢车间工会 干部", ROLLING, ("cadre",)),
    ]
    with running_portal(running_federation, ENTERPRISE_NODE, people, "portal-honours") as url:
        yield HonoursPortal(url, member)


def test_a_proposal_is_submitted_evaluated_to_its_reward_and_followed_by_its_author(
    running_federation: RunningFederation, browser: Browser, portal: HonoursPortal
) -> None:
    # The federation first: it starts with asyncio.run, which the browser's loop would refuse.
    title = f"冷却水循环利用 {uuid.uuid4().hex[:6]}"
    member = sign_in(browser, portal.url, "member", viewport=DESKTOP)
    member.goto("/proposals")
    expect(member.locator(".empty")).to_contain_text("您还没有提交建议")
    shoot(member, "honours-proposals-empty")

    # A blank field is marked next to it, and what was typed stays.
    member.fill("#f-title", title)
    member.fill("#f-proposal", "改为闭路循环。")
    member.click("#proposal-submit")
    expect(member.locator("#error-problem")).to_have_text("此项必填。")
    expect(member.locator("#f-title")).to_have_value(title)
    fits_a_phone(member)
    shoot(member, "honours-proposal-errors")

    member.fill("#f-problem", "轧机冷却水一次性使用后直接排放。")
    member.fill("#f-expected_benefit", "每年少买约五万吨新水。")
    member.click("#proposal-submit")
    expect(member.locator(".flash")).to_contain_text("建议已提交")
    expect(member.locator("#proposal-state")).to_have_attribute("data-state", "submitted")
    proposal_url = member.url

    cadre = sign_in(browser, portal.url, "cadre", viewport=DESKTOP)
    cadre.goto("/proposals/evaluate")
    shoot(cadre, "honours-evaluate")
    fits_a_phone(cadre)
    cadre.get_by_role("link", name=title).click()
    cadre.click("#act-reject button")  # no reasons: refused here, next to the field
    expect(cadre.locator("#error-reasons")).to_have_text("此项必填。")
    cadre.fill("#act-adopt textarea[name=note]", "车间同意采纳。")
    cadre.click("#act-adopt button")
    expect(cadre.locator(".flash")).to_contain_text("已采纳")
    cadre.click("#act-trial button")
    expect(cadre.locator("#proposal-state")).to_have_attribute("data-state", "in_trial")
    cadre.fill("#f-benefit", "60,000")
    cadre.fill("#act-assess textarea[name=note]", "按三个月水表读数折算。")
    cadre.click("#act-assess button")
    expect(cadre.locator("#proposal-state")).to_have_attribute("data-state", "assessed")
    shoot(cadre, "honours-proposal-cadre")
    cadre.click("#act-reward button")
    expect(cadre.locator("#proposal-state")).to_have_attribute("data-state", "rewarded")
    expect(cadre.locator("#proposal-reward")).to_contain_text("元")

    member.goto(proposal_url)
    steps = member.locator("#proposal-steps li")
    expect(steps).to_have_count(5)
    assert [steps.nth(i).get_attribute("data-step") for i in range(5)] == [
        "submit",
        "adopt",
        "trial",
        "assess",
        "reward",
    ]
    expect(member.locator("#proposal-steps")).to_contain_text("60,000.00元")
    expect(member.locator("#proposal-steps")).to_contain_text("按三个月水表读数折算")
    fits_a_phone(member)
    shoot(member, "honours-proposal")
    member.goto("/proposals")
    expect(member.locator("#proposal-list li").first).to_have_attribute("data-state", "rewarded")
    shoot(member, "honours-proposals")
    member.goto("/honours")  # the reward, recorded from its honour_granted event
    reloaded_until(member, "#honour-list li[data-kind=proposal_reward]")
    member.context.close()
    cadre.context.close()


def test_an_immediate_reward_takes_its_amount_from_the_quota_and_reaches_the_member(
    running_federation: RunningFederation, browser: Browser, portal: HonoursPortal
) -> None:
    # The federation first: it starts with asyncio.run, which the browser's loop would refuse.
    title = f"安全隐患及时报告 {uuid.uuid4().hex[:6]}"
    member = sign_in(browser, portal.url, "member", viewport=DESKTOP)
    refused = member.goto("/rewards")
    assert refused is not None and refused.status == 403
    expect(member.locator(".problem")).to_contain_text("您无权查看此页面")

    cadre = sign_in(browser, portal.url, "cadre", viewport=DESKTOP)
    cadre.goto("/rewards")
    before = int(cadre.locator("#quota-left").get_attribute("data-fen") or "")
    cadre.fill("#member-search", portal.member["name"])
    cadre.click(".search-member button")
    cadre.locator("#member-matches a").first.click()
    expect(cadre.locator("#f-member_id")).to_have_value(portal.member["member_id"])
    cadre.fill("#f-title", title)
    cadre.fill("#f-reason", "早班前发现吊钩磨损并及时报告。")
    cadre.fill("#f-amount", "88.50")
    cadre.click("#reward-submit")
    expect(cadre.locator(".flash")).to_contain_text("奖励已发放")
    after = int(cadre.locator("#quota-left").get_attribute("data-fen") or "")
    assert before - after == 8850
    expect(cadre.locator("#reward-list li").first).to_contain_text(title)
    fits_a_phone(cadre)
    shoot(cadre, "honours-rewards")

    member.goto("/honours")
    reloaded_until(member, f"#honour-list li:has-text('{title}')")
    reward = member.locator(f"#honour-list li:has-text('{title}')")
    expect(reward).to_contain_text("88.50元")
    expect(reward).to_have_attribute("data-kind", "reward")
    fits_a_phone(member)
    shoot(member, "honours-honours")
    member.context.close()
    cadre.context.close()
