"""The honours pages against faked services: my honours with totals in yuan, proposals
submitted and followed, their evaluation steps, immediate rewards within the quota left.
Errors of the portal's own checks and of the awards API appear next to their fields, with
what was typed kept; members never reach a cadre's page or step."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from portal.honours_money import NotMoney, fen_of, yuan
from portal.testing import Portal, answering

PROPOSAL = {
    "proposal_id": "pr1",
    "author_id": "m1",
    "home_org": "steel-rolling",
    "evaluating_org": "steel-rolling",
    "title": "Cooling water loop",
    "problem": "Fresh water runs once through the mill.",
    "proposal": "Recirculate it.",
    "expected_benefit": "Less water bought.",
    "state": "submitted",
    "benefit_fen": None,
    "reward_fen": None,
    "honour_id": None,
    "submitted_at": "2026-03-01T02:00:00Z",
    "evaluated_at": None,
    "updated_at": "2026-03-01T02:00:00Z",
    "steps": [
        {
            "seq": 1,
            "step": "submit",
            "from_state": None,
            "to_state": "submitted",
            "actor": "member:m1",
            "at": "2026-03-01T02:00:00Z",
            "note": None,
            "benefit_fen": None,
            "reward_fen": None,
        }
    ],
}
QUOTA = {
    "org_id": "steel-rolling",
    "period": "month",
    "count": 10,
    "amount_fen": 500_000,
    "default": False,
    "current_period": "2026-03",
    "period_starts_at": "2026-02-28T16:00:00Z",
    "period_ends_at": "2026-03-31T16:00:00Z",
    "used_count": 1,
    "used_fen": 20_000,
    "left_count": 9,
    "left_fen": 480_000,
    "updated_at": "2026-03-01T00:00:00Z",
    "set_by_org": "steel",
}
HONOUR = {
    "record_id": "r1",
    "honour_id": "h1",
    "member_id": "m1",
    "home_org": "steel-rolling",
    "kind": "reward",
    "scheme_id": None,
    "scheme_kind": "immediate_reward",
    "title": "Hazard reported",
    "source_id": "rw1",
    "granting_org": "steel-rolling",
    "team_name": None,
    "amount_fen": 123_450,
    "benefits": ["cash"],
    "reason": "A worn crane hook",
    "year": 2026,
    "granted_at": "2026-03-01T02:00:00Z",
    "ce_id": "e1",
}


def problem(status: int, detail: str, field: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"title": "Problem", "status": status, "detail": detail}
    if field:
        body["errors"] = [{"field": field, "reason": detail}]
    return body


def sent(request: httpx.Request) -> Any:
    return json.loads(request.content)


def error_next_to(html: str, field: str) -> str:
    marker = f'id="error-{field}">'
    start = html.index(marker) + len(marker)
    return html[start : html.index("</span>", start)]


def test_amounts_are_shown_in_yuan_the_way_each_language_writes_them() -> None:
    assert yuan(123_450, "zh") == "1,234.50元"
    assert yuan(123_450, "en") == "¥1,234.50"
    assert yuan(5, "en") == "¥0.05"


@pytest.mark.parametrize(
    ("typed", "fen"), [("200", 20_000), ("1,200.50", 120_050), ("¥0.05", 5), ("30元", 3000)]
)
def test_yuan_typed_either_way_become_fen(typed: str, fen: int) -> None:
    assert fen_of(typed) == fen


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("", "honours.money.blank"),
        ("two hundred", "honours.money.invalid"),
        ("-5", "honours.money.negative"),
        ("1.005", "honours.money.cents"),
        ("NaN", "honours.money.invalid"),
        ("1e30", "honours.money.too_much"),
    ],
)
def test_what_is_not_a_sum_of_money_is_refused_with_its_reason(typed: str, key: str) -> None:
    with pytest.raises(NotMoney) as refused:
        fen_of(typed)
    assert refused.value.key == key


async def test_my_honours_show_each_honour_and_the_totals_in_yuan(portal: Portal) -> None:
    body: dict[str, Any] = {
        "items": [HONOUR],
        "next_cursor": "c2",
        "totals": {"count": 3, "amount_fen": 223_450},
    }
    portal.services.special.append(answering("GET", "/members/m1/honours", body))
    await portal.sign_in("member")
    page = await portal.http.get("/honours")
    assert page.status_code == 200
    assert "Hazard reported" in page.text and "1,234.50元" in page.text
    assert '<dd id="honours-amount">2,234.50元</dd>' in page.text
    assert "即时奖励" in page.text and "现金奖励" in page.text
    assert "/honours?cursor=c2" in page.text
    portal.http.cookies.set("bigschool_lang", "en")
    english = await portal.http.get("/honours")
    assert "¥2,234.50" in english.text and "Immediate reward" in english.text


async def test_an_empty_honours_record_says_what_to_do_next(portal: Portal) -> None:
    body: dict[str, Any] = {
        "items": [],
        "next_cursor": None,
        "totals": {"count": 0, "amount_fen": 0},
    }
    portal.services.special.append(answering("GET", "/members/m1/honours", body))
    await portal.sign_in("member")
    page = await portal.http.get("/honours")
    assert "还没有荣誉记录" in page.text and 'href="/proposals"' in page.text


async def test_a_person_without_a_member_id_gets_a_page_not_an_api_call(portal: Portal) -> None:
    await portal.sign_in("cadre")
    for path in ("/honours", "/proposals"):
        page = await portal.http.get(path)
        assert page.status_code == 403 and "没有会员编号" in page.text
    assert portal.services.calls("GET", "/members/m1/honours") == []


def mine(items: list[dict[str, Any]]) -> Callable[..., Any]:
    return answering("GET", "/members/m1/proposals", {"items": items, "next_cursor": None})


async def test_blank_proposal_fields_are_marked_and_what_was_typed_stays(portal: Portal) -> None:
    portal.services.special.append(mine([]))
    await portal.sign_in("member")
    csrf = await portal.csrf("/proposals")
    form = {"csrf": csrf, "title": "Cooling <loop>", "problem": " ", "proposal": "Recirculate"}
    page = await portal.http.post("/proposals", data=form)
    assert page.status_code == 422
    assert error_next_to(page.text, "problem") == "此项必填。"
    assert error_next_to(page.text, "expected_benefit") == "此项必填。"
    assert 'value="Cooling &lt;loop&gt;"' in page.text and ">Recirculate</textarea>" in page.text
    assert 'aria-invalid="true"' in page.text
    assert portal.services.calls("POST", "/proposals") == []


async def test_a_proposal_is_submitted_and_its_page_follows(portal: Portal) -> None:
    portal.services.special += [
        mine([]),
        answering("POST", "/proposals", PROPOSAL, 201),
        answering("GET", "/proposals/pr1", PROPOSAL),
    ]
    await portal.sign_in("member")
    csrf = await portal.csrf("/proposals")
    form = {
        "csrf": csrf,
        "title": "Cooling water loop",
        "problem": "Fresh water runs once.",
        "proposal": "Recirculate it.",
        "expected_benefit": "Less water bought.",
        "evaluating_org": "steel-rolling",
    }
    answer_ = await portal.http.post("/proposals", data=form)
    assert answer_.status_code == 303 and answer_.headers["location"] == "/proposals/pr1"
    [call] = portal.services.calls("POST", "/proposals")
    assert sent(call) == {k: v for k, v in form.items() if k != "csrf"}
    page = await portal.http.get("/proposals/pr1")
    assert "建议已提交" in page.text and 'data-state="submitted"' in page.text
    assert 'data-step="submit"' in page.text
    assert 'action="/proposals/pr1/adopt"' not in page.text  # a member takes no step


async def test_the_apis_reason_for_a_field_is_shown_next_to_it(portal: Portal) -> None:
    refused = problem(422, "evaluating_org: hosted by node n2", "evaluating_org")
    portal.services.special += [mine([]), answering("POST", "/proposals", refused, 422)]
    await portal.sign_in("member")
    csrf = await portal.csrf("/proposals")
    fields = {"title": "T", "problem": "P", "proposal": "Q", "expected_benefit": "B"}
    page = await portal.http.post(
        "/proposals", data={"csrf": csrf, **fields, "evaluating_org": "zj"}
    )
    assert page.status_code == 422
    assert error_next_to(page.text, "evaluating_org") == "evaluating_org: hosted by node n2"


async def test_a_member_opening_the_evaluation_page_or_taking_a_step_gets_403(
    portal: Portal,
) -> None:
    await portal.sign_in("member")
    page = await portal.http.get("/proposals/evaluate")
    assert page.status_code == 403 and "您无权查看此页面" in page.text
    csrf = await portal.csrf("/signin")
    step = await portal.http.post("/proposals/pr1/adopt", data={"csrf": csrf})
    assert step.status_code == 403
    assert not [r for r in portal.services.seen if "/proposals" in r.url.path]


async def test_a_cadre_lists_the_orgs_proposals_in_the_state_chosen(portal: Portal) -> None:
    body = {"items": [PROPOSAL], "next_cursor": None}
    portal.services.special.append(answering("GET", "/orgs/steel-rolling/proposals", body))
    await portal.sign_in("cadre")
    page = await portal.http.get("/proposals/evaluate")
    assert page.status_code == 200 and "Cooling water loop" in page.text
    assert (
        portal.services.calls("GET", "/orgs/steel-rolling/proposals")[0].url.params["state"]
        == "submitted"
    )
    await portal.http.get("/proposals/evaluate?state=all")
    assert (
        "state" not in portal.services.calls("GET", "/orgs/steel-rolling/proposals")[1].url.params
    )


async def test_a_rejection_needs_reasons_before_the_api_is_asked(portal: Portal) -> None:
    portal.services.special += [
        answering("GET", "/proposals/pr1", PROPOSAL),
        answering("POST", "/proposals/pr1/reject", {**PROPOSAL, "state": "rejected"}),
    ]
    await portal.sign_in("cadre")
    page = await portal.http.get("/proposals/pr1")
    assert 'action="/proposals/pr1/adopt"' in page.text
    assert 'action="/proposals/pr1/reject"' in page.text
    csrf = await portal.csrf("/proposals/pr1")
    blank = await portal.http.post("/proposals/pr1/reject", data={"csrf": csrf, "reasons": ""})
    assert blank.status_code == 422 and error_next_to(blank.text, "reasons") == "此项必填。"
    assert portal.services.calls("POST", "/proposals/pr1/reject") == []
    done = await portal.http.post(
        "/proposals/pr1/reject", data={"csrf": csrf, "reasons": "Already planned."}
    )
    assert done.status_code == 303
    [call] = portal.services.calls("POST", "/proposals/pr1/reject")
    assert sent(call) == {"reasons": "Already planned."}


async def test_an_assessment_is_typed_in_yuan_and_sent_in_fen(portal: Portal) -> None:
    on_trial = {**PROPOSAL, "state": "in_trial"}
    portal.services.special += [
        answering("GET", "/proposals/pr1", on_trial),
        answering("POST", "/proposals/pr1/assess", {**on_trial, "state": "assessed"}),
    ]
    await portal.sign_in("cadre")
    csrf = await portal.csrf("/proposals/pr1")
    bad = await portal.http.post(
        "/proposals/pr1/assess", data={"csrf": csrf, "benefit": "lots", "note": "Metered"}
    )
    assert bad.status_code == 422 and "金额应为数字" in error_next_to(bad.text, "benefit")
    assert 'value="lots"' in bad.text
    good = await portal.http.post(
        "/proposals/pr1/assess", data={"csrf": csrf, "benefit": "12,000.50", "note": "Metered"}
    )
    assert good.status_code == 303
    [call] = portal.services.calls("POST", "/proposals/pr1/assess")
    assert sent(call) == {"benefit_fen": 1_200_050, "note": "Metered"}


async def test_a_step_out_of_order_is_shown_at_the_top(portal: Portal) -> None:
    conflict = problem(409, "state: cannot adopt a proposal that is rejected", "state")
    portal.services.special += [
        answering("GET", "/proposals/pr1", PROPOSAL),
        answering("POST", "/proposals/pr1/adopt", conflict, 409),
    ]
    await portal.sign_in("cadre")
    csrf = await portal.csrf("/proposals/pr1")
    page = await portal.http.post("/proposals/pr1/adopt", data={"csrf": csrf, "note": ""})
    assert page.status_code == 409
    assert "cannot adopt a proposal that is rejected" in page.text
    assert sent(portal.services.calls("POST", "/proposals/pr1/adopt")[0]) == {}


def rewards_api(portal: Portal, granted: list[dict[str, Any]] | None = None) -> None:
    portal.services.special += [
        answering("GET", "/orgs/steel-rolling/reward-quota", QUOTA),
        answering(
            "GET", "/orgs/steel-rolling/rewards", {"items": granted or [], "next_cursor": None}
        ),
    ]


async def test_the_rewards_page_shows_the_quota_left_for_the_period(portal: Portal) -> None:
    rewards_api(portal)
    await portal.sign_in("cadre")
    page = await portal.http.get("/rewards")
    assert page.status_code == 200
    assert '<strong id="quota-left" data-fen="480000">4,800.00元</strong>' in page.text
    assert 'data-count="9"' in page.text and "2026-03" in page.text
    assert "本单位还没有发放即时奖励" in page.text


async def test_a_member_is_found_by_name_and_chosen_for_the_form(portal: Portal) -> None:
    rewards_api(portal)
    member = {"member_id": "m1", "home_org": "steel-rolling", "display_name": "王芳"}
    portal.services.special.append(
        answering("GET", "/orgs/steel-rolling/members", {"items": [member], "next_cursor": None})
    )
    await portal.sign_in("cadre")
    found = await portal.http.get("/rewards", params={"q": "王"})
    assert "王芳" in found.text and "/rewards?member=m1&amp;home_org=steel-rolling" in found.text
    assert portal.services.calls("GET", "/orgs/steel-rolling/members")[0].url.params["q"] == "王"
    chosen = await portal.http.get("/rewards", params={"member": "m1", "home_org": "steel-rolling"})
    assert 'name="member_id" value="m1"' in chosen.text


async def test_a_reward_is_granted_in_fen_with_its_benefits(portal: Portal) -> None:
    rewards_api(portal)
    portal.services.special.append(answering("POST", "/rewards", {"reward_id": "rw1"}, 201))
    await portal.sign_in("cadre")
    csrf = await portal.csrf("/rewards")
    form = {
        "csrf": csrf,
        "member_id": "m1",
        "home_org": "steel-rolling",
        "title": "Hazard reported",
        "reason": "A worn crane hook",
        "amount": "200",
        "benefits": ["cash", "tourism", "yacht"],
    }
    done = await portal.http.post("/rewards", data=form)
    assert done.status_code == 303 and done.headers["location"] == "/rewards"
    [call] = portal.services.calls("POST", "/rewards")
    assert sent(call) == {
        "member_id": "m1",
        "home_org": "steel-rolling",
        "title": "Hazard reported",
        "reason": "A worn crane hook",
        "amount_fen": 20_000,
        "benefits": ["cash", "tourism"],
    }
    page = await portal.http.get("/rewards")
    assert "奖励已发放" in page.text


async def test_over_the_quota_the_reason_is_next_to_the_amount_and_nothing_is_lost(
    portal: Portal,
) -> None:
    rewards_api(portal)
    over = problem(409, "amount_fen: 4,800.00 yuan left this period", "amount_fen")
    portal.services.special.append(answering("POST", "/rewards", over, 409))
    await portal.sign_in("cadre")
    csrf = await portal.csrf("/rewards")
    form = {
        "csrf": csrf,
        "member_id": "m1",
        "home_org": "steel-rolling",
        "title": "Big one",
        "reason": "Saved the mill",
        "amount": "9,000",
        "benefits": "tourism",
    }
    page = await portal.http.post("/rewards", data=form)
    assert page.status_code == 409
    assert "4,800.00 yuan left" in error_next_to(page.text, "amount")
    assert 'value="9,000"' in page.text and ">Saved the mill</textarea>" in page.text
    assert 'value="tourism" checked' in page.text and 'value="cash" checked' not in page.text


async def test_a_reward_without_a_reason_or_with_a_bad_amount_never_reaches_the_api(
    portal: Portal,
) -> None:
    rewards_api(portal)
    await portal.sign_in("cadre")
    csrf = await portal.csrf("/rewards")
    form = {"csrf": csrf, "member_id": "m1", "home_org": "steel-rolling", "title": "T"}
    page = await portal.http.post("/rewards", data={**form, "reason": "", "amount": "1.005"})
    assert page.status_code == 422
    assert error_next_to(page.text, "reason") == "此项必填。"
    assert "两位小数" in error_next_to(page.text, "amount")
    assert portal.services.calls("POST", "/rewards") == []


async def test_honours_forms_without_the_csrf_token_are_refused(portal: Portal) -> None:
    await portal.sign_in("cadre")
    for path in ("/rewards", "/proposals/pr1/adopt"):
        refused = await portal.http.post(path, data={"member_id": "m1", "amount": "1"})
        assert refused.status_code == 403 and "表单已过期" in refused.text
    assert all(r.method == "GET" for r in portal.services.seen)


async def test_a_member_opening_the_rewards_page_gets_403_before_any_api_call(
    portal: Portal,
) -> None:
    await portal.sign_in("member")
    page = await portal.http.get("/rewards")
    assert page.status_code == 403
    assert not [r for r in portal.services.seen if "reward" in r.url.path]


def orgs_api(request: httpx.Request) -> httpx.Response | None:
    tree = {
        "steel-rolling": ("轧钢车间工会", "steel", "n1"),
        "steel": ("钢铁集团工会", "city", "n1"),
        "city": ("市总工会", None, "n0"),
    }
    org_id = request.url.path.removeprefix("/orgs/")
    if request.url.host != "enrollment" or org_id not in tree:
        return None
    name, parent, node = tree[org_id]
    body = {"org_id": org_id, "name": name, "parent_id": parent, "level": "x", "hosted_by": node}
    return httpx.Response(200, json=body)


async def test_a_proposal_may_go_to_the_home_org_or_an_org_above_it_at_this_node(
    portal: Portal,
) -> None:
    portal.services.special += [mine([]), orgs_api]
    await portal.sign_in("member")
    page = await portal.http.get("/proposals")
    assert '<option value="steel-rolling">轧钢车间工会 (steel-rolling)</option>' in page.text
    assert '<option value="steel">钢铁集团工会 (steel)</option>' in page.text
    assert 'value="city"' not in page.text  # hosted by another node: the API would refuse it
