"""CSRF on every form, the Content Security Policy on every answer, the cadre page refused
to a member as a page, and the language switch that only ever redirects on this site."""

from __future__ import annotations

import json

import httpx
import pytest

from portal.testing import Portal
from portal.web import CSP, local_path


async def test_every_page_carries_the_content_security_policy(portal: Portal) -> None:
    for path in ("/signin", "/static/portal.css", "/nowhere"):
        answer = await portal.http.get(path)
        assert answer.headers["content-security-policy"] == CSP
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
    assert "script-src 'self';" in CSP and "frame-ancestors 'none'" in CSP


async def test_pages_have_no_inline_script_or_style(portal: Portal) -> None:
    await portal.sign_in("member")
    for path in ("/programmes", "/programmes/p1", "/signin"):
        html = (await portal.http.get(path)).text
        assert "<script>" not in html and "<style" not in html and " style=" not in html


@pytest.mark.parametrize("path", ["/signin", "/signout", "/lang/en", "/programmes/p1/enrol"])
async def test_a_form_posted_without_the_csrf_token_is_refused(portal: Portal, path: str) -> None:
    await portal.sign_in("member")
    before = len(portal.services.seen)
    answer = await portal.http.post(path, data={"person": "member", "next": "/"})
    assert answer.status_code == 403
    assert "text/html" in answer.headers["content-type"]
    assert len(portal.services.calls("POST", "/enrollments")) == 0
    assert all(r.method == "GET" for r in portal.services.seen[before:])


async def test_a_wrong_csrf_token_is_refused_too(portal: Portal) -> None:
    await portal.sign_in("member")
    answer = await portal.http.post("/programmes/p1/enrol", data={"csrf": "guess"})
    assert answer.status_code == 403
    assert portal.services.calls("POST", "/enrollments") == []


async def test_a_member_opening_the_cadre_page_gets_the_403_page(portal: Portal) -> None:
    await portal.sign_in("member")
    answer = await portal.http.get("/approvals")
    assert answer.status_code == 403
    assert "您无权查看此页面" in answer.text
    assert "Traceback" not in answer.text
    assert portal.services.calls("GET", "/approvals") == []


async def test_a_cadre_sees_the_approvals_of_their_org(portal: Portal) -> None:
    portal.services.special.append(
        lambda r: (
            httpx.Response(200, json={"items": [], "next_cursor": None})
            if r.url.path == "/approvals"
            else None
        )
    )
    await portal.sign_in("cadre")
    answer = await portal.http.get("/approvals")
    assert answer.status_code == 200
    [call] = portal.services.calls("GET", "/approvals")
    assert call.url.params["org"] == "steel-rolling"


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("/programmes?area=ethics", "/programmes?area=ethics"),
        ("/inbox", "/inbox"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/x\r\nSet-Cookie: a=b", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_redirects_stay_on_this_site(candidate: str | None, expected: str) -> None:
    assert local_path(candidate) == expected


async def test_switching_language_returns_to_the_same_page_and_saves_the_preference(
    portal: Portal,
) -> None:
    await portal.sign_in("member")
    csrf = await portal.csrf("/programmes")
    answer = await portal.http.post(
        "/lang/en", data={"csrf": csrf, "next": "/programmes?area=safety_health"}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/programmes?area=safety_health"
    assert portal.http.cookies["bigschool_lang"] == "en"
    [put] = portal.services.calls("PUT", "/preferences/me")
    body = json.loads(put.content)
    assert body["language"] == "en"
    assert body["channels"] == {"learning": ["inapp"]}  # the rest is sent back unchanged
    page = await portal.http.get("/programmes?area=safety_health")
    assert "Programmes open to me" in page.text and "2 Mar 2026, 09:30" in page.text


async def test_the_language_switch_refuses_to_leave_the_site(portal: Portal) -> None:
    csrf = await portal.csrf()
    answer = await portal.http.post("/lang/en", data={"csrf": csrf, "next": "//evil.example"})
    assert answer.headers["location"] == "/"


async def test_chinese_is_the_default_with_dates_in_the_federation_time_zone(
    portal: Portal,
) -> None:
    await portal.sign_in("member")
    page = await portal.http.get("/programmes/p1")
    assert 'lang="zh-CN"' in page.text
    assert "2026年3月2日 09:30" in page.text


async def test_an_api_problem_is_shown_as_a_readable_message(portal: Portal) -> None:
    problem = {
        "title": "Unprocessable request",
        "status": 422,
        "detail": "enrollment closed on 1 March",
        "errors": [{"field": "programme_id", "reason": "enrollment closed on 1 March"}],
    }
    portal.services.special.append(
        lambda r: httpx.Response(422, json=problem) if r.method == "POST" else None
    )
    await portal.sign_in("member")
    csrf = await portal.csrf("/programmes/p1")
    answer = await portal.http.post("/programmes/p1/enrol", data={"csrf": csrf})
    assert answer.status_code == 422
    assert 'role="alert"' in answer.text
    assert "programme_id: enrollment closed on 1 March" in answer.text
