"""The recognition pages against faked services: who may open them (403 page before any API
call), the nomination form with errors beside its fields, endorse/return at the cadre's own
step, the reviewer's queue with recusal marked and the API's refusal shown readably, a
notice's objection form, the owner's objections, the scheme form and the shortlist."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from portal.testing import FakeServices, Portal, answering, portal_settings, running_portal

NOMINATION: dict[str, Any] = {
    "nomination_id": "n1",
    "scheme_id": "s1",
    "round_id": "r1",
    "owner_org": "zj-hz",
    "home_org": "steel-rolling",
    "nominee": "member",
    "member_ids": ["m9"],
    "team_name": None,
    "stages": ["steel"],
    "status": "endorsing",
    "stage_index": 0,
    "version": 1,
    "open_objections": 0,
    "notice_ends_at": None,
    "step": 2,
    "updated_at": "2026-03-02T01:30:00Z",
    "dossier": {
        "version": 1,
        "nominees": [{"member_id": "m9", "display_name": "李强"}],
        "team_name": None,
        "achievements": "Cut scrap by a third.",
        "cited_facts": [{"ce_id": "c1"}],
        "training_hours": 124.0,
        "received_at": "2026-03-02T01:30:00Z",
    },
}
SCHEME = {
    "scheme_id": "s1",
    "owner_org": "zj-hz",
    "owned_here": True,
    "kind": "model_worker",
    "title": "杭州市劳动模范",
    "nominee": "member",
    "criteria": {"min_training_hours": 120},
    "endorse_levels": ["enterprise"],
    "veto_departments": ["discipline"],
    "notice_days": 7,
    "budget_fen": 1_000_000,
    "committed_fen": 0,
    "paid_fen": 0,
    "min_reviews": 2,
}
ROUND = {
    "round_id": "r1",
    "scheme_id": "s1",
    "owner_org": "zj-hz",
    "name": "2026",
    "year": 2026,
    "status": "open",
    "opens_at": "2026-01-02T01:30:00Z",
    "deadline": "2026-06-30T15:59:59Z",
}
NOTICE = {
    "notice_id": "t1",
    "round_id": "r1",
    "scheme_id": "s1",
    "scheme_title": "杭州市劳动模范",
    "owner_org": "zj-hz",
    "starts_at": "2026-04-01T01:30:00Z",
    "ends_at": "2026-04-08T01:30:00Z",
    "open": True,
    "entries_total": 1,
    "entries": [
        {
            "nomination_id": "n1",
            "home_org": "steel-rolling",
            "nominees": [{"member_id": "m9", "display_name": "李强"}],
            "team_name": None,
            "achievements": "Cut scrap by a third.",
        }
    ],
    "next_cursor": None,
}
OBJECTION = {
    "objection_id": "o1",
    "notice_id": "t1",
    "nomination_id": "n1",
    "owner_org": "zj-hz",
    "objector_id": "m1",
    "objector_org": "steel-rolling",
    "reasons": "Measured before the audit.",
    "status": "open",
    "answer": None,
    "submitted_at": "2026-04-02T01:30:00Z",
    "resolved_at": None,
}
PEOPLE = [
    {"key": "member", "name": "王芳", "org": "steel-rolling", "roles": ["member"],
     "member_id": "m1"},
    {"key": "cadre", "name": "Rolling cadre", "org": "steel-rolling", "roles": ["cadre"]},
    {"key": "enterprise", "name": "Steel cadre", "org": "steel", "roles": ["cadre"]},
    {"key": "owner", "name": "City cadre", "org": "zj-hz", "roles": ["cadre"]},
    {"key": "reviewer", "name": "Reviewer", "org": "steel", "roles": ["reviewer"]},
]  # fmt: skip


def answers(request: httpx.Request) -> httpx.Response | None:
    """The awards service as the pages read it."""
    if request.url.host != "awards":
        return None
    route = (request.method, request.url.path)
    found: dict[tuple[str, str], Any] = {
        ("GET", "/nominations"): {"items": [NOMINATION], "next_cursor": None},
        ("GET", "/nominations/n1"): NOMINATION,
        ("GET", "/nominations/n1/trail"): [],
        ("GET", "/schemes"): {"items": [SCHEME], "next_cursor": None},
        ("GET", "/schemes/s1"): SCHEME,
        ("GET", "/schemes/s1/rounds"): [ROUND],
        ("GET", "/rounds/r1"): ROUND,
        ("GET", "/rounds/r1/nominations"): {"items": [NOMINATION], "next_cursor": None},
        ("GET", "/rounds/r1/results"): {"items": [], "next_cursor": None},
        ("GET", "/rounds/r1/objections"): {"items": [OBJECTION], "next_cursor": None},
        ("GET", "/notices"): {"items": [NOTICE], "next_cursor": None},
        ("GET", "/notices/t1"): NOTICE,
        ("GET", "/objections/o1"): OBJECTION,
    }
    if route in found:
        return httpx.Response(200, json=found[route])
    return None


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[Portal]:
    people = tmp_path / "nomination-people.json"
    people.write_text(json.dumps(PEOPLE, ensure_ascii=False), encoding="utf-8")
    settings = portal_settings(tmp_path, demo_people_path=people)
    async with running_portal(settings, FakeServices(special=[answers])) as running:
        yield running


def awards_calls(portal: Portal) -> list[httpx.Request]:
    return [r for r in portal.services.seen if r.url.host == "awards"]


def posted(portal: Portal, path: str) -> list[dict[str, Any]]:
    return [json.loads(r.content) for r in portal.services.calls("POST", path)]


@pytest.mark.parametrize(
    "path", ["/nominations", "/nominations/new", "/schemes", "/reviews", "/reviews/rounds/r1"]
)
async def test_a_member_gets_the_403_page_before_any_awards_call(portal: Portal, path: str) -> None:
    await portal.sign_in("member")
    answer = await portal.http.get(path)
    assert answer.status_code == 403
    assert "您无权查看此页面" in answer.text
    assert awards_calls(portal) == []


async def test_the_endorsing_orgs_cadre_sees_their_step_and_the_home_cadre_does_not(
    portal: Portal,
) -> None:
    await portal.sign_in("enterprise")
    listed = await portal.http.get("/nominations")
    detail = await portal.http.get("/nominations/n1")
    assert "李强" in listed.text and "待本组织审核" in listed.text
    assert 'id="endorse"' in detail.text and 'id="return"' in detail.text
    await portal.sign_in("cadre")
    detail = await portal.http.get("/nominations/n1")
    assert 'id="endorse"' not in detail.text


async def test_returning_without_reasons_is_refused_beside_the_field_before_the_api(
    portal: Portal,
) -> None:
    await portal.sign_in("enterprise")
    csrf = await portal.csrf("/nominations/n1")
    answer = await portal.http.post("/nominations/n1/return", data={"csrf": csrf, "reasons": " "})
    assert answer.status_code == 422
    assert 'id="reasons-error"' in answer.text and "此项必填" in answer.text
    assert portal.services.calls("POST", "/nominations/n1/return") == []


async def test_endorsing_posts_the_comment_and_says_so_after_the_redirect(portal: Portal) -> None:
    portal.services.special.insert(0, answering("POST", "/nominations/n1/endorse", NOMINATION))
    await portal.sign_in("enterprise")
    csrf = await portal.csrf("/nominations/n1")
    answer = await portal.http.post(
        "/nominations/n1/endorse", data={"csrf": csrf, "comment": "Well earned."}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/nominations/n1"
    assert posted(portal, "/nominations/n1/endorse") == [{"comment": "Well earned."}]
    assert "已同意推荐" in (await portal.http.get("/nominations/n1")).text


async def test_the_nomination_form_offers_open_rounds_and_shows_the_apis_errors_by_field(
    portal: Portal,
) -> None:
    problem = {
        "title": "Unprocessable",
        "detail": "min_training_hours: 96.0 of 120.0 hours in 2026",
        "errors": [{"field": "member_ids", "reason": "96.0 of 120.0 hours in 2026"}],
    }
    portal.services.special.insert(0, answering("POST", "/nominations", problem, 422))
    await portal.sign_in("cadre")
    form = await portal.http.get("/nominations/new")
    assert 'value="s1/r1"' in form.text
    csrf = await portal.csrf("/nominations/new")
    answer = await portal.http.post(
        "/nominations/new",
        data={"csrf": csrf, "round": "s1/r1", "member_ids": "m9", "achievements": "Scrap."},
    )
    assert answer.status_code == 422
    assert 'id="member_ids-error">96.0 of 120.0 hours in 2026' in answer.text
    assert 'value="m9"' in answer.text and "Scrap." in answer.text  # nothing typed is lost
    assert posted(portal, "/nominations") == [
        {"scheme_id": "s1", "round_id": "r1", "member_ids": ["m9"], "achievements": "Scrap."}
    ]


async def test_a_team_nomination_splits_ids_on_chinese_and_ascii_commas(portal: Portal) -> None:
    portal.services.special.insert(0, answering("POST", "/nominations", NOMINATION, 202))
    await portal.sign_in("cadre")
    csrf = await portal.csrf("/nominations/new")
    answer = await portal.http.post(
        "/nominations/new",
        data={
            "csrf": csrf,
            "round": "s1/r1",
            "member_ids": "m1\uff0cm2, m3",  # a Chinese comma, then an ASCII one
            "team_name": "Crane crew",
            "achievements": "Zero incidents.",
        },
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/nominations/n1"
    [body] = posted(portal, "/nominations")
    assert body["member_ids"] == ["m1", "m2", "m3"] and body["team_name"] == "Crane crew"


async def test_the_reviewer_queue_marks_recused_items_and_offers_no_score_form(
    portal: Portal,
) -> None:
    recused = {**NOMINATION, "status": "in_review", "recused": True}
    portal.services.special.insert(
        0, answering("GET", "/nominations", {"items": [recused], "next_cursor": None})
    )
    await portal.sign_in("reviewer")
    answer = await portal.http.get("/reviews")
    assert answer.status_code == 200
    assert "须回避" in answer.text and "score-form" not in answer.text
    [listed] = portal.services.calls("GET", "/nominations")
    assert listed.url.params.get_list("status") == ["veto_check", "in_review"]


async def test_the_review_queue_goes_page_by_page(portal: Portal) -> None:
    open_item = {**NOMINATION, "status": "in_review", "recused": False}
    portal.services.special.insert(
        0, answering("GET", "/nominations", {"items": [open_item], "next_cursor": "c-50"})
    )
    await portal.sign_in("reviewer")
    first = await portal.http.get("/reviews")
    assert 'href="/reviews?after=c-50"' in first.text
    second = await portal.http.get("/reviews?after=c-50")
    assert second.status_code == 200 and 'href="/reviews"' in second.text  # back to the start
    asked = portal.services.calls("GET", "/nominations")
    assert [r.url.params.get("cursor") for r in asked] == [None, "c-50"]
    assert {r.url.params["limit"] for r in asked} == {"50"}


async def test_a_score_the_api_refuses_for_recusal_is_shown_as_a_readable_message(
    portal: Portal,
) -> None:
    open_item = {**NOMINATION, "status": "in_review", "recused": False}
    problem = {"title": "Forbidden", "detail": "recused: the reviewer comes from steel"}
    portal.services.special[:0] = [
        answering("GET", "/nominations", {"items": [open_item], "next_cursor": None}),
        answering("POST", "/nominations/n1/reviews", problem, 403),
    ]
    await portal.sign_in("reviewer")
    csrf = await portal.csrf("/reviews")
    answer = await portal.http.post("/reviews/n1/score", data={"csrf": csrf, "score": "88"})
    assert answer.status_code == 403
    assert 'role="alert"><p>recused: the reviewer comes from steel' in answer.text
    assert "Traceback" not in answer.text
    assert posted(portal, "/nominations/n1/reviews") == [{"score": 88.0}]


async def test_a_score_out_of_range_is_refused_beside_the_field(portal: Portal) -> None:
    open_item = {**NOMINATION, "status": "in_review", "recused": False}
    portal.services.special.insert(
        0, answering("GET", "/nominations", {"items": [open_item], "next_cursor": None})
    )
    await portal.sign_in("reviewer")
    csrf = await portal.csrf("/reviews")
    answer = await portal.http.post("/reviews/n1/score", data={"csrf": csrf, "score": "120"})
    assert answer.status_code == 422
    assert 'id="score-n1-error"' in answer.text and 'value="120"' in answer.text
    assert portal.services.calls("POST", "/nominations/n1/reviews") == []


async def test_a_veto_needs_its_reason(portal: Portal) -> None:
    checking = {**NOMINATION, "status": "veto_check", "recused": None}
    portal.services.special.insert(
        0, answering("GET", "/nominations", {"items": [checking], "next_cursor": None})
    )
    await portal.sign_in("reviewer")
    csrf = await portal.csrf("/reviews")
    answer = await portal.http.post(
        "/reviews/n1/veto", data={"csrf": csrf, "department": "discipline", "outcome": "vetoed"}
    )
    assert answer.status_code == 422 and 'id="reason-n1-error"' in answer.text
    assert portal.services.calls("POST", "/nominations/n1/veto-checks") == []


async def test_a_member_objects_on_the_notice_and_lands_on_their_objection(
    portal: Portal,
) -> None:
    portal.services.special.insert(0, answering("POST", "/notices/t1/objections", OBJECTION, 202))
    await portal.sign_in("member")
    page = await portal.http.get("/notices/t1")
    assert 'id="objection-form"' in page.text and "李强" in page.text
    csrf = await portal.csrf("/notices/t1")
    empty = await portal.http.post(
        "/notices/t1/objections", data={"csrf": csrf, "nomination_id": "n1", "reasons": ""}
    )
    assert empty.status_code == 422 and 'id="reasons-objection-error"' in empty.text
    filed = await portal.http.post(
        "/notices/t1/objections",
        data={"csrf": csrf, "nomination_id": "n1", "reasons": "Measured before the audit."},
    )
    assert filed.status_code == 303 and filed.headers["location"] == "/notices/objections/o1"
    assert posted(portal, "/notices/t1/objections") == [
        {"nomination_id": "n1", "reasons": "Measured before the audit."}
    ]
    mine = await portal.http.get("/notices/objections/o1")
    assert "异议已提交" in mine.text and "等待评选单位答复" in mine.text


async def test_an_objection_after_the_notice_ended_keeps_the_text_and_says_why(
    portal: Portal,
) -> None:
    problem = {"title": "Conflict", "detail": "the notice period has ended"}
    portal.services.special.insert(0, answering("POST", "/notices/t1/objections", problem, 409))
    await portal.sign_in("member")
    csrf = await portal.csrf("/notices/t1")
    answer = await portal.http.post(
        "/notices/t1/objections", data={"csrf": csrf, "nomination_id": "n1", "reasons": "Late."}
    )
    assert answer.status_code == 409
    assert "the notice period has ended" in answer.text and ">Late.</textarea>" in answer.text


async def test_the_owners_cadre_reads_and_answers_objections_on_their_notice(
    portal: Portal,
) -> None:
    portal.services.special.insert(0, answering("POST", "/objections/o1/resolve", OBJECTION))
    await portal.sign_in("cadre")  # not the owner: no objections shown, none asked for
    assert "resolve-form" not in (await portal.http.get("/notices/t1")).text
    assert portal.services.calls("GET", "/rounds/r1/objections") == []
    await portal.sign_in("owner")
    page = await portal.http.get("/notices/t1")
    assert "resolve-form" in page.text and "Measured before the audit." in page.text
    csrf = await portal.csrf("/notices/t1")
    answer = await portal.http.post(
        "/notices/t1/objections/o1/resolve",
        data={"csrf": csrf, "upheld": "no", "answer": "Re-measured after the audit."},
    )
    assert answer.status_code == 303
    assert posted(portal, "/objections/o1/resolve") == [
        {"upheld": False, "answer": "Re-measured after the audit."}
    ]


async def test_the_scheme_form_reads_its_lines_and_flags_a_bad_one(portal: Portal) -> None:
    portal.services.special.insert(0, answering("POST", "/schemes", SCHEME, 201))
    await portal.sign_in("owner")
    csrf = await portal.csrf("/schemes")
    form = {
        "csrf": csrf,
        "kind": "model_worker",
        "title": "杭州市劳动模范",
        "nominee": "member",
        "min_hours": "120",
        "level_enterprise": "1",
        "quotas": "steel 2",
        "veto": "discipline officer@zj-hz",
        "reviewers": "rev-a zj-hz\nrev-c",
        "min_reviews": "2",
        "notice_days": "7",
        "cash_yuan": "5000",
        "budget_yuan": "100000",
    }
    bad = await portal.http.post("/schemes", data=form)
    assert bad.status_code == 422 and 'id="reviewers-error"' in bad.text
    assert portal.services.calls("POST", "/schemes") == []
    good = await portal.http.post("/schemes", data=form | {"reviewers": "rev-a zj-hz\nrev-c steel"})
    assert good.status_code == 303 and good.headers["location"] == "/schemes/s1"
    [body] = posted(portal, "/schemes")
    assert body["criteria"] == {"min_training_hours": 120}
    assert body["endorse_levels"] == ["enterprise"]
    assert body["quotas"] == [{"org_id": "steel", "nominations": 2}]
    assert body["reviewers"][1] == {"sub": "rev-c", "org_id": "steel"}
    assert body["benefits"] == [{"kind": "cash", "amount_fen": 500_000}]
    assert body["budget_fen"] == 10_000_000


async def test_the_owner_shortlists_several_nominations_in_one_notice(portal: Portal) -> None:
    second = {**NOMINATION, "nomination_id": "n2", "status": "in_review"}
    listed = {"items": [{**NOMINATION, "status": "in_review"}, second], "next_cursor": None}
    portal.services.special[:0] = [
        answering("GET", "/rounds/r1/nominations", listed),
        answering("POST", "/rounds/r1/notices", {"notice_id": "t1"}, 202),
    ]
    await portal.sign_in("owner")
    csrf = await portal.csrf("/reviews/rounds/r1")
    none = await portal.http.post("/reviews/rounds/r1/notice", data={"csrf": csrf})
    assert none.status_code == 422 and 'id="shortlist-notice-error"' in none.text
    answer = await portal.http.post(
        "/reviews/rounds/r1/notice",
        content=f"csrf={csrf}&shortlist=n2&shortlist=n1",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 303
    assert posted(portal, "/rounds/r1/notices") == [{"nomination_ids": ["n1", "n2"]}]


async def test_a_decision_refused_by_the_api_is_shown_above_its_form(portal: Portal) -> None:
    problem = {"title": "Conflict", "detail": "the notice period has not ended"}
    on_notice = {"items": [{**NOMINATION, "status": "on_notice"}], "next_cursor": None}
    portal.services.special[:0] = [
        answering("GET", "/rounds/r1/nominations", on_notice),
        answering("POST", "/nominations/n1/decision", problem, 409),
    ]
    await portal.sign_in("owner")
    csrf = await portal.csrf("/reviews/rounds/r1")
    answer = await portal.http.post(
        "/reviews/rounds/r1/decide/n1", data={"csrf": csrf, "granted": "yes", "reasons": "Good."}
    )
    assert answer.status_code == 409
    assert "the notice period has not ended" in answer.text and ">Good.</textarea>" in answer.text
    assert posted(portal, "/nominations/n1/decision") == [{"granted": True, "reasons": "Good."}]


async def test_forms_of_these_pages_refuse_a_post_without_the_csrf_token(portal: Portal) -> None:
    await portal.sign_in("owner")
    for path in ("/nominations/n1/endorse", "/reviews/rounds/r1/decide/n1", "/schemes"):
        answer = await portal.http.post(path, data={"reasons": "x"})
        assert answer.status_code == 403
    assert [r for r in awards_calls(portal) if r.method == "POST"] == []
