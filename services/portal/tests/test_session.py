"""The session cookie: encrypted, HttpOnly, SameSite=Lax, Secure when configured; a token
that never reaches the page."""

from __future__ import annotations

from pathlib import Path

import jwt
from cryptography.fernet import Fernet

from portal.session import COOKIE, Session, SessionCodec
from portal.testing import Portal


def test_a_session_survives_the_round_trip_and_is_unreadable_without_the_key() -> None:
    codec = SessionCodec(Fernet.generate_key().decode(), secure=True)
    cookie = codec.encode(Session(token="secret-token", name="王芳", member_id="m1"))
    assert "secret-token" not in cookie
    back = codec.decode(cookie)
    assert (back.token, back.name, back.member_id) == ("secret-token", "王芳", "m1")
    other = SessionCodec(Fernet.generate_key().decode(), secure=True)
    assert other.decode(cookie).token is None


def test_a_tampered_cookie_gives_a_fresh_anonymous_session() -> None:
    codec = SessionCodec(Fernet.generate_key().decode(), secure=True)
    cookie = codec.encode(Session(token="t"))
    tampered = cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB")
    assert codec.decode(tampered).token is None
    assert codec.decode("not even base64 !").token is None


async def test_the_cookie_is_http_only_and_same_site_lax(portal: Portal) -> None:
    page = await portal.http.get("/signin")
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # cookie_secure is off in this test


def test_the_cookie_is_secure_when_configured() -> None:
    from starlette.responses import Response

    response = Response()
    SessionCodec(Fernet.generate_key().decode(), secure=True).write(response, Session())
    assert "Secure" in response.headers["set-cookie"]


async def test_signing_in_issues_the_demo_persons_token_and_keeps_it_out_of_pages(
    portal: Portal, tmp_path: Path
) -> None:
    await portal.sign_in("member")
    page = await portal.http.get("/programmes")
    assert page.status_code == 200
    assert "Crane safety" in page.text
    [call] = portal.services.calls("GET", "/programmes")
    token = call.headers["authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == "bigschool:n1"
    assert (claims["org"], claims["roles"], claims["member_id"]) == (
        "steel-rolling",
        ["member"],
        "m1",
    )
    assert claims["sub"] == "member:m1"
    assert token not in page.text
    assert token not in portal.http.cookies[COOKIE]


async def test_signing_out_forgets_the_token(portal: Portal) -> None:
    await portal.sign_in("member")
    csrf = await portal.csrf("/programmes")
    out = await portal.http.post("/signout", data={"csrf": csrf})
    assert out.status_code == 303
    again = await portal.http.get("/programmes")
    assert again.status_code == 303
    assert again.headers["location"].startswith("/signin")
