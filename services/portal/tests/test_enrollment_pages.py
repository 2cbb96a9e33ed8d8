"""The enrollment area's pages against faked services: approvals decided, a roster uploaded
(multipart, CSRF-checked, sent on as the body the API wants), its progress and error report,
a member edited, transferred and removed; the member's record, preferences; the cadre's
programmes, budget and delivery log."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from portal.testing import Portal, answering

JOB = {
    "job_id": "j1",
    "org": "steel-rolling",
    "status": "running",
    "file_format": "csv",
    "encoding": "utf-8",
    "total": 4,
    "done": 2,
    "good": 1,
    "errors": 1,
    "created": 1,
    "updated": 0,
    "columns": {},
    "ignored_columns": [],
    "created_at": "2026-03-02T01:30:00Z",
    "finished_at": None,
    "failure": None,
}
MEMBER = {
    "member_id": "m1",
    "home_org": "steel-rolling",
    "name": "王芳",
    "email": "wf@example.org",
    "phone": None,
    "employee_no": "E1",
    "language": "zh",
    "status": "active",
}


def problem(status: int, detail: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"title": "Refused", "status": status, "detail": detail, "errors": errors or []}


@pytest.fixture(autouse=True)
def roster_of_the_org(portal: Portal) -> None:
    """The org's roster page: one member (GET /members), unless a test answers first."""
    portal.services.special.append(
        lambda r: (
            httpx.Response(200, json={"items": [MEMBER], "next_cursor": None})
            if (r.method, r.url.path) == ("GET", "/members")
            else None
        )
    )


# -- approvals ---------------------------------------------------------------------------------


async def test_a_cadre_approves_a_waiting_request(portal: Portal) -> None:
    portal.services.special.append(answering("POST", "/enrollments/e1/approval", {"id": "e1"}))
    await portal.sign_in("cadre")
    csrf = await portal.csrf("/roster")
    sent = await portal.http.post("/approvals/e1", data={"csrf": csrf, "decision": "approve"})
    assert sent.status_code == 303 and sent.headers["location"] == "/approvals"
    [call] = portal.services.calls("POST", "/enrollments/e1/approval")
    assert json.loads(call.content) == {"approve": True, "reason": None}


async def test_a_rejection_without_a_reason_is_refused_before_the_api(portal: Portal) -> None:
    portal.services.special.append(
        answering("GET", "/approvals", {"items": [], "next_cursor": None})
    )
    await portal.sign_in("cadre")
    csrf = await portal.csrf("/roster")
    sent = await portal.http.post(
        "/approvals/e1", data={"csrf": csrf, "decision": "reject", "reason": " "}
    )
    assert sent.status_code == 303
    assert portal.services.calls("POST", "/enrollments/e1/approval") == []
    shown = await portal.http.get("/approvals")
    assert "驳回申请时请填写理由" in shown.text


async def test_a_rejection_sends_its_reason(portal: Portal) -> None:
    portal.services.special.append(answering("POST", "/enrollments/e1/approval", {"id": "e1"}))
    await portal.sign_in("cadre")
    csrf = await portal.csrf("/roster")
    await portal.http.post(
        "/approvals/e1", data={"csrf": csrf, "decision": "reject", "reason": "Shift clash"}
    )
    [call] = portal.services.calls("POST", "/enrollments/e1/approval")
    assert json.loads(call.content) == {"approve": False, "reason": "Shift clash"}


async def test_an_approval_the_api_refuses_is_shown_as_its_reason(portal: Portal) -> None:
    portal.services.special += [
        answering("POST", "/enrollments/e1/approval", problem(409, "not pending approval"), 409),
        answering("GET", "/approvals", {"items": [], "next_cursor": None}),
    ]
    await portal.sign_in("cadre")
    csrf = await portal.csrf("/roster")
    await portal.http.post("/approvals/e1", data={"csrf": csrf, "decision": "approve"})
    assert "not pending approval" in (await portal.http.get("/approvals")).text


async def test_a_member_cannot_decide_an_approval(portal: Portal) -> None:
    await portal.sign_in("member")
    csrf = await portal.csrf("/programmes")
    sent = await portal.http.post("/approvals/e1", data={"csrf": csrf, "decision": "approve"})
    assert sent.status_code == 403
    assert portal.services.calls("POST", "/enrollments/e1/approval") == []


# -- roster import -----------------------------------------------------------------------------

CSV = "name,employee_no\n王芳,E1\n,E2\n".encode()


async def test_an_uploaded_roster_goes_to_the_import_api_as_the_body(portal: Portal) -> None:
    portal.services.special.append(answering("POST", "/rosters/imports", JOB, 202))
    await portal.sign_in("cadre")
    csrf = await portal.csrf("/roster")
    sent = await portal.http.post(
        "/roster/imports", data={"csrf": csrf}, files={"file": ("people.csv", CSV, "text/csv")}
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/roster/imports/j1"
    [call] = portal.services.calls("POST", "/rosters/imports")
    assert call.content == CSV
    assert call.headers["content-type"] == "text/csv"
    assert call.url.params["org"] == "steel-rolling"


async def test_an_upload_without_the_csrf_token_is_refused(portal: Portal) -> None:
    await portal.sign_in("cadre")
    sent = await portal.http.post(
        "/roster/imports", files={"file": ("people.csv", CSV, "text/csv")}
    )
    assert sent.status_code == 403
    assert portal.services.calls("POST", "/rosters/imports") == []


async def test_a_file_that_is_no_spreadsheet_is_refused_beside_the_form(portal: Portal) -> None:
    await portal.sign_in("cadre")
    csrf = await portal.csrf("/roster")
    sent = await portal.http.post(
        "/roster/imports", data={"csrf": csrf}, files={"file": ("a.pdf", b"%PDF", "x/pdf")}
    )
    assert sent.status_code == 422
    assert "只能导入 .csv 或 .xlsx 文件" in sent.text
    assert portal.services.calls("POST", "/rosters/imports") == []


async def test_a_roster_the_api_refuses_as_a_whole_shows_why(portal: Portal) -> None:
    refusal = problem(422, "required column missing", [{"field": "employee_no", "reason": "x"}])
    portal.services.special.append(answering("POST", "/rosters/imports", refusal, 422))
    await portal.sign_in("cadre")
    csrf = await portal.csrf("/roster")
    sent = await portal.http.post(
        "/roster/imports", data={"csrf": csrf}, files={"file": ("p.csv", CSV, "text/csv")}
    )
    assert sent.status_code == 422
    assert "required column missing" in sent.text and "employee_no" in sent.text


async def test_a_running_import_shows_a_progress_bar_that_reloads(portal: Portal) -> None:
    portal.services.special.append(answering("GET", "/rosters/imports/j1", JOB))
    await portal.sign_in("cadre")
    shown = await portal.http.get("/roster/imports/j1")
    assert '<progress id="roster-progress" max="4" value="2">' in shown.text
    assert 'http-equiv="refresh"' in shown.text
    status = (await portal.http.get("/roster/imports/j1/status")).json()
    assert status == {
        "status": "running", "total": 4, "done": 2, "good": 1, "errors": 1, "created": 1,
        "updated": 0, "finished": False,
    }  # fmt: skip


async def test_a_finished_import_offers_its_error_report(portal: Portal) -> None:
    done = JOB | {"status": "done", "done": 4, "finished_at": "2026-03-02T01:31:00Z"}
    report = b"line,column,reason\r\n3,name,a name is required\r\n"
    portal.services.special += [
        answering("GET", "/rosters/imports/j1", done),
        answering("GET", "/rosters/imports/j1/errors.csv", report),
    ]
    await portal.sign_in("cadre")
    shown = await portal.http.get("/roster/imports/j1")
    assert 'href="/roster/imports/j1/errors.csv"' in shown.text
    assert 'http-equiv="refresh"' not in shown.text
    got = await portal.http.get("/roster/imports/j1/errors.csv")
    assert got.status_code == 200 and got.content == report
    assert got.headers["content-type"].startswith("text/csv")
    [call] = portal.services.calls("GET", "/rosters/imports/j1/errors.csv")
    assert call.headers["authorization"].startswith("Bearer ")


async def test_the_roster_lists_the_org_members_page_by_page(portal: Portal) -> None:
    await portal.sign_in("cadre")
    html = (await portal.http.get("/roster?after=abc")).text
    assert '<a href="/roster/members/m1">王芳</a>' in html
    [call] = portal.services.calls("GET", "/members")
    assert call.url.params["org"] == "steel-rolling" and call.url.params["cursor"] == "abc"


async def test_a_member_cannot_open_the_roster(portal: Portal) -> None:
    await portal.sign_in("member")
    for path in ("/roster", "/roster/imports/j1", "/roster/imports/j1/errors.csv"):
        assert (await portal.http.get(path)).status_code == 403
    assert not [r for r in portal.services.seen if "/rosters" in r.url.path]


# -- one member of the roster ------------------------------------------------------------------


async def test_a_cadre_changes_only_what_they_edited(portal: Portal) -> None:
    portal.services.special += [
        answering("GET", "/members/m1", MEMBER),
        answering("PATCH", "/members/m1", MEMBER),
    ]
    await portal.sign_in("cadre")
    csrf = await portal.csrf("/roster/members/m1")
    form = {"csrf": csrf, "name": "王芳", "email": "", "phone": "138 0000 0000",
            "employee_no": "E1", "language": "zh"}  # fmt: skip
    sent = await portal.http.post("/roster/members/m1", data=form)
    assert sent.status_code == 303
    [call] = portal.services.calls("PATCH", "/members/m1")
    assert json.loads(call.content) == {"email": None, "phone": "138 0000 0000"}


async def test_a_refused_change_is_shown_next_to_its_field(portal: Portal) -> None:
    refusal = problem(422, "invalid", [{"field": "body.phone", "reason": "not a phone number"}])
    portal.services.special += [
        answering("GET", "/members/m1", MEMBER),
        answering("PATCH", "/members/m1", refusal, 422),
    ]
    await portal.sign_in("cadre")
    csrf = await portal.csrf("/roster/members/m1")
    sent = await portal.http.post("/roster/members/m1", data={"csrf": csrf, "phone": "abc"})
    assert sent.status_code == 422
    assert 'id="e-phone">not a phone number' in sent.text
    assert 'value="abc"' in sent.text  # what was typed is kept


async def test_a_transfer_to_another_node_shows_the_code_once(portal: Portal) -> None:
    moved = {"member_id": "m1", "to_org": "bus-depot", "to_node": "n2",
             "status": "token_issued", "token": "n1.m1.secretsecretsecretsecret"}  # fmt: skip
    portal.services.special += [
        answering("GET", "/members/m1", MEMBER),
        answering("POST", "/members/m1/transfer", moved),
    ]
    await portal.sign_in("cadre")
    csrf = await portal.csrf("/roster/members/m1")
    await portal.http.post(
        "/roster/members/m1/transfer", data={"csrf": csrf, "to_org": "bus-depot"}
    )
    [call] = portal.services.calls("POST", "/members/m1/transfer")
    assert json.loads(call.content) == {"to_org": "bus-depot"}
    assert "n1.m1.secretsecretsecretsecret" in (await portal.http.get("/roster/members/m1")).text
    assert "n1.m1.secret" not in (await portal.http.get("/roster/members/m1")).text


async def test_leaving_needs_the_confirmation(portal: Portal) -> None:
    portal.services.special += [
        answering("GET", "/members/m1", MEMBER),
        answering("POST", "/members/m1/leave", {"member_id": "m1"}),
    ]
    await portal.sign_in("cadre")
    csrf = await portal.csrf("/roster/members/m1")
    await portal.http.post("/roster/members/m1/leave", data={"csrf": csrf})
    assert portal.services.calls("POST", "/members/m1/leave") == []
    sent = await portal.http.post("/roster/members/m1/leave", data={"csrf": csrf, "confirm": "yes"})
    assert sent.headers["location"] == "/roster"
    assert len(portal.services.calls("POST", "/members/m1/leave")) == 1


# -- my learning record ------------------------------------------------------------------------


def learning(year: int, hours: dict[str, float]) -> dict[str, Any]:
    return {
        "member_id": "m1", "year": year, "hours_by_quality_area": hours,
        "total_hours": sum(hours.values()), "completions_count": 1, "completions": [],
    }  # fmt: skip


CERTIFICATE = {
    "certificate_id": "c1", "enrollment_id": "e1", "programme_id": "p1",
    "programme_title": "Crane safety", "quality_area": "safety_health", "hours": 8,
    "completed_on": "2026-03-02", "issued_at": "2026-03-02T09:30:00Z", "revoked_at": None,
    "valid": True, "verification_code": "ABC123",
    "verification_url": "http://enrollment.test/certificates/verify/ABC123",
    "pdf_url": "/certificates/c1.pdf",
}  # fmt: skip


def record_services(portal: Portal) -> None:
    def year_record(request: httpx.Request) -> httpx.Response | None:
        if request.url.path != "/members/m1/learning-record":
            return None
        year = int(request.url.params["year"])
        hours = {"safety_health": 12.5, "ethics": 4.0} if year == 2026 else {}
        return httpx.Response(200, json=learning(year, hours))

    portal.services.special += [
        year_record,
        answering("GET", "/members/m1/certificates", {"items": [CERTIFICATE], "next_cursor": None}),
        answering("GET", "/certificates/c1.pdf", b"%PDF-1.7 fake"),
    ]


async def test_my_record_draws_hours_per_area_as_bars_with_a_table(portal: Portal) -> None:
    record_services(portal)
    await portal.sign_in("member")
    shown = await portal.http.get("/record?year=2026")
    assert shown.status_code == 200
    html = shown.text
    assert '<svg class="hours-chart" id="chart-areas"' in html and '<rect class="bar"' in html
    assert '<th scope="row">安全健康</th><td class="num">12.5</td>' in html
    assert " style=" not in html and "<script>" not in html
    assert 'value="http://enrollment.test/certificates/verify/ABC123"' in html
    assert 'href="/record/certificates/c1.pdf"' in html


async def test_the_longest_bar_fills_the_room_and_a_zero_draws_none() -> None:
    from portal.enrollment_chart import LABEL_WIDTH, VALUE_ROOM, WIDTH, bar_chart

    chart = bar_chart([("a", 10, "10"), ("b", 5, "5"), ("c", 0, "0")])
    widths = [b.width for b in chart.bars]
    assert widths == [WIDTH - LABEL_WIDTH - VALUE_ROOM, (WIDTH - LABEL_WIDTH - VALUE_ROOM) / 2, 0]
    assert bar_chart([("a", 0, "0")]).empty


async def test_a_certificate_pdf_comes_through_the_portal(portal: Portal) -> None:
    record_services(portal)
    await portal.sign_in("member")
    got = await portal.http.get("/record/certificates/c1.pdf")
    assert got.status_code == 200 and got.content == b"%PDF-1.7 fake"
    bad = await portal.http.get("/record/certificates/..%2Fadmin.pdf")
    assert bad.status_code == 404


async def test_a_cadre_without_a_member_record_gets_the_403_page(portal: Portal) -> None:
    await portal.sign_in("cadre")
    assert (await portal.http.get("/record")).status_code == 403


# -- notification preferences ------------------------------------------------------------------

KINDS = {"kinds": [
    {"kind": "offers", "priority": "critical", "required": False, "channels": ["inapp", "email"]},
    {"kind": "learning", "priority": "low", "required": False, "channels": ["inapp"]},
]}  # fmt: skip


async def test_preferences_show_what_is_stored(portal: Portal) -> None:
    portal.services.special.append(answering("GET", "/preferences/kinds", KINDS))
    await portal.sign_in("member")
    shown = await portal.http.get("/preferences")
    assert shown.status_code == 200
    assert 'name="own.learning" value="on" checked' in shown.text
    assert 'name="own.offers" value="on" checked' not in shown.text
    assert 'name="ch.offers.email" value="on" checked' in shown.text


async def test_saving_preferences_sends_every_field(portal: Portal) -> None:
    portal.services.special.append(answering("GET", "/preferences/kinds", KINDS))
    await portal.sign_in("member")
    csrf = await portal.csrf("/preferences")
    form = {"csrf": csrf, "language": "en", "time_zone": "Europe/Berlin", "quiet": "window",
            "quiet_from": "22:00", "quiet_to": "07:00", "digest": "8",
            "own.offers": "on", "ch.offers.sms": "on", "ch.learning.email": "on"}  # fmt: skip
    sent = await portal.http.post("/preferences", data=form)
    assert sent.status_code == 303
    assert sent.cookies.get("bigschool_lang") == "en"
    [call] = portal.services.calls("PUT", "/preferences/me")
    assert json.loads(call.content) == {
        "language": "en", "time_zone": "Europe/Berlin", "quiet_hours": "22:00-07:00",
        "digest_hour": 8, "channels": {"offers": ["sms"]},
    }  # fmt: skip


async def test_quiet_hours_without_times_are_refused_beside_the_field(portal: Portal) -> None:
    portal.services.special.append(answering("GET", "/preferences/kinds", KINDS))
    await portal.sign_in("member")
    csrf = await portal.csrf("/preferences")
    sent = await portal.http.post("/preferences", data={"csrf": csrf, "quiet": "window"})
    assert sent.status_code == 422
    assert 'id="e-quiet_hours">请填写开始和结束时间' in sent.text
    assert portal.services.calls("PUT", "/preferences/me") == []


async def test_a_time_zone_the_api_refuses_is_shown_beside_it(portal: Portal) -> None:
    refusal = problem(422, "invalid", [{"field": "time_zone", "reason": "not an IANA time zone"}])
    portal.services.special += [
        answering("GET", "/preferences/kinds", KINDS),
        answering("PUT", "/preferences/me", refusal, 422),
    ]
    await portal.sign_in("member")
    csrf = await portal.csrf("/preferences")
    sent = await portal.http.post("/preferences", data={"csrf": csrf, "time_zone": "Mars/Base"})
    assert sent.status_code == 422
    assert 'id="e-time_zone">not an IANA time zone' in sent.text
    assert 'value="Mars/Base"' in sent.text


# -- programmes filtered by the API ------------------------------------------------------------


async def test_programme_filters_are_passed_to_the_api(portal: Portal) -> None:
    await portal.sign_in("member")
    shown = await portal.http.get(
        "/programmes?area=ethics&kind=lecture&since=2026-03-01&q=+crane+&after=abc"
    )
    assert shown.status_code == 200
    [call] = portal.services.calls("GET", "/programmes")
    assert dict(call.url.params) == {
        "cursor": "abc", "limit": "20", "quality_area": "ethics", "kind": "lecture",
        "q": "crane", "starts_from": "2026-03-01T00:00:00+08:00",
    }  # fmt: skip


async def test_filter_values_the_api_does_not_know_are_left_out(portal: Portal) -> None:
    await portal.sign_in("member")
    await portal.http.get("/programmes?area=cooking&kind=x&since=yesterday")
    [call] = portal.services.calls("GET", "/programmes")
    assert dict(call.url.params) == {"limit": "20"}


# -- my org's programmes, budget, delivery log -------------------------------------------------

SEATS = {"items": [
    {"enrollment_id": "e1", "member_id": "m1", "display_name": "王芳", "home_org": "steel-rolling",
     "status": "confirmed", "sequence": 1, "position": None, "score": None, "rank": None},
    {"enrollment_id": "e2", "member_id": "m2", "display_name": "李雷", "home_org": "steel-rolling",
     "status": "waitlisted", "sequence": 2, "position": 1, "score": None, "rank": None},
], "next_cursor": None}  # fmt: skip


async def test_my_org_programmes_are_asked_of_the_api_by_owner(portal: Portal) -> None:
    await portal.sign_in("cadre")
    shown = await portal.http.get("/org/programmes")
    assert 'href="/org/programmes/p1"' in shown.text
    [call] = portal.services.calls("GET", "/programmes")
    assert call.url.params["owner_org"] == "steel-rolling"


async def test_participants_and_waitlist_are_listed_apart(portal: Portal) -> None:
    portal.services.special.append(answering("GET", "/programmes/p1/seats", SEATS))
    await portal.sign_in("cadre")
    html = (await portal.http.get("/org/programmes/p1")).text
    participants = html[html.index('id="participants"') : html.index("</table>")]
    assert "王芳" in participants and "李雷" not in participants
    assert "李雷" in html[html.index('id="waiting-h"') :]


async def test_attendance_of_several_people_is_one_call(portal: Portal) -> None:
    portal.services.special.append(answering("POST", "/programmes/p1/attendance", {}))
    await portal.sign_in("cadre")
    csrf = await portal.csrf("/org/programmes")
    body = f"csrf={csrf}&seat=e1&seat=e3&attended=no"
    sent = await portal.http.post(
        "/org/programmes/p1/attendance", content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert sent.status_code == 303
    [call] = portal.services.calls("POST", "/programmes/p1/attendance")
    assert json.loads(call.content) == {"enrollment_ids": ["e1", "e3"], "attended": False}


async def test_a_result_is_recorded_with_score_and_rank(portal: Portal) -> None:
    portal.services.special.append(answering("POST", "/programmes/p1/seats/e1/completion", {}))
    await portal.sign_in("cadre")
    csrf = await portal.csrf("/org/programmes")
    await portal.http.post(
        "/org/programmes/p1/seats/e1/result", data={"csrf": csrf, "score": "92.5", "rank": "2"}
    )
    [call] = portal.services.calls("POST", "/programmes/p1/seats/e1/completion")
    assert json.loads(call.content) == {"score": 92.5, "rank": 2}
    await portal.http.post("/org/programmes/p1/seats/e1/result", data={"csrf": csrf, "rank": "x"})
    assert len(portal.services.calls("POST", "/programmes/p1/seats/e1/completion")) == 1


BUDGET = {"org_id": "steel-rolling", "year": 2026, "union_fund_fen": 10_000_000,
          "education_share_bp": 150, "available": 150_000, "committed": 30_000,
          "spent": 20_000, "left": 100_000}  # fmt: skip


def budget_services(portal: Portal) -> None:
    subtree = BUDGET | {"node": "n1", "orgs": 3}
    portal.services.special += [
        answering("GET", "/budgets/steel-rolling/2026", BUDGET),
        answering("GET", "/budgets/steel-rolling/2026/subtree", subtree),
        answering("PUT", "/budgets/steel-rolling/2026", BUDGET),
    ]


async def test_the_budget_shows_amounts_in_yuan_with_bars(portal: Portal) -> None:
    budget_services(portal)
    await portal.sign_in("cadre")
    html = (await portal.http.get("/budget?year=2026")).text
    assert "¥1,500.00" in html and "¥1,000.00" in html
    assert 'id="chart-budget"' in html


async def test_setting_the_budget_sends_fen_and_basis_points(portal: Portal) -> None:
    budget_services(portal)
    await portal.sign_in("cadre")
    csrf = await portal.csrf("/budget?year=2026")
    form = {"csrf": csrf, "year": "2026", "fund_yuan": "100,000.50", "share_percent": "1.5"}
    sent = await portal.http.post("/budget", data=form)
    assert sent.status_code == 303
    [call] = portal.services.calls("PUT", "/budgets/steel-rolling/2026")
    assert json.loads(call.content) == {"union_fund_fen": 10_000_050, "education_share_bp": 150}


async def test_a_bad_budget_is_refused_next_to_its_field(portal: Portal) -> None:
    budget_services(portal)
    await portal.sign_in("cadre")
    csrf = await portal.csrf("/budget?year=2026")
    form = {"csrf": csrf, "year": "2026", "fund_yuan": "-5", "share_percent": "150"}
    sent = await portal.http.post("/budget", data=form)
    assert sent.status_code == 422
    assert 'id="e-fund"' in sent.text and 'id="e-share"' in sent.text
    assert portal.services.calls("PUT", "/budgets/steel-rolling/2026") == []


DELIVERY = {"delivery_id": "d1", "ce_id": "c1", "event_type": "enrollment.confirmed.v1",
            "member_id": "m1", "home_org": "steel-rolling", "channel": "email",
            "status": "failed", "attempts": 8, "next_attempt_at": "2026-03-02T01:30:00Z",
            "last_error": "SMTPServerDisconnected", "created_at": "2026-03-02T01:30:00Z",
            "sent_at": None, "fallback_of": None,
            "log": [{"attempt": 1, "at": "2026-03-02T01:30:00Z", "outcome": "failed",
                     "error_type": "SMTPServerDisconnected", "fallback_to": None}]}  # fmt: skip


async def test_the_delivery_log_shows_failed_ones_with_a_retry(portal: Portal) -> None:
    portal.services.special += [
        answering("GET", "/deliveries", {"items": [DELIVERY], "next_cursor": None}),
        answering("POST", "/deliveries/d1/retry", DELIVERY | {"status": "pending"}),
    ]
    await portal.sign_in("cadre")
    html = (await portal.http.get("/deliveries")).text
    [call] = portal.services.calls("GET", "/deliveries")
    assert call.url.params["status"] == "failed" and call.url.params["org"] == "steel-rolling"
    assert 'action="/deliveries/d1/retry"' in html
    csrf = await portal.csrf("/deliveries")
    sent = await portal.http.post("/deliveries/d1/retry", data={"csrf": csrf})
    assert sent.status_code == 303
    assert len(portal.services.calls("POST", "/deliveries/d1/retry")) == 1


async def test_a_member_opens_none_of_the_cadre_pages(portal: Portal) -> None:
    await portal.sign_in("member")
    for path in ("/org/programmes", "/org/programmes/p1", "/budget", "/deliveries"):
        answer_ = await portal.http.get(path)
        assert answer_.status_code == 403, path
    assert [r.url.path for r in portal.services.seen if r.url.host != "notifications"] == []


async def test_an_id_that_could_climb_out_of_its_path_is_not_passed_on(portal: Portal) -> None:
    await portal.sign_in("cadre")
    for path in ("/roster/members/a..b", "/roster/imports/x..y", "/org/programmes/..p"):
        assert (await portal.http.get(path)).status_code == 404, path
    assert not [r for r in portal.services.seen if r.url.host == "enrollment"]


async def test_an_upload_declared_over_the_limit_is_refused_before_it_is_read() -> None:
    from starlette.requests import Request

    from portal.enrollment_pages import MAX_UPLOAD_BYTES, upload_of
    from portal.web import PageError

    read: list[bool] = []

    async def receive() -> dict[str, Any]:
        read.append(True)
        return {"type": "http.request", "body": b"", "more_body": False}

    size = str(MAX_UPLOAD_BYTES * 2).encode()
    scope = {"type": "http", "method": "POST", "path": "/roster/imports", "headers": [
        (b"content-type", b"multipart/form-data; boundary=x"), (b"content-length", size),
    ]}  # fmt: skip
    with pytest.raises(PageError) as refused:
        await upload_of(Request(scope, receive))
    assert refused.value.status == 413 and refused.value.message_key == "roster.too_big"
    assert read == []
