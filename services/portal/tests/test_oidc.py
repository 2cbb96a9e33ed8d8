"""OpenID Connect sign-in against a small provider run in the test: real HTTP on loopback
serving discovery, the JWKS and the token endpoint, its keys made by shared.auth.keys. The
portal signs in with the authorization code flow (PKCE, state, nonce) and then calls the
APIs with the provider's access token."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest

from portal.app import create_app
from portal.oidc import PENDING_COOKIE, challenge_of
from portal.session import COOKIE, SessionCodec
from portal.testing import FakeServices, Portal, portal_settings
from shared.auth.keys import generate_keys, kid_of
from shared.auth.tokens import issue_token, load_private_key

CLIENT = "bigschool-portal"
NODE = "n1"  # portal_settings' node: the access token's audience is bigschool:n1


@dataclass
class Provider:
    """The identity provider: what it was asked and what it answers with."""

    url: str
    key: Any
    kid: str
    logins: dict[str, dict[str, str]] = field(default_factory=dict)  # code → the request
    exchanges: list[dict[str, str]] = field(default_factory=list)
    claims: dict[str, Any] = field(
        default_factory=lambda: {"org": "steel-rolling", "roles": ["cadre"], "member_id": None}
    )
    nonce_override: str | None = None
    last_access_token: str = ""
    access_ttl: timedelta = timedelta(minutes=5)
    refresh_tokens: set[str] = field(default_factory=set)  # valid while the session lives
    issued: list[str] = field(default_factory=list)  # every refresh token, in order
    rotate: bool = True  # a new refresh token with every renewal

    def access_token(self) -> str:
        self.last_access_token = issue_token(
            self.key,
            kid=self.kid,
            issuer=self.url,
            node=NODE,
            sub="kc-user-1",
            org=self.claims["org"],
            roles=self.claims["roles"],
            member_id=self.claims["member_id"],
            ttl=self.access_ttl,
        )
        return self.last_access_token

    def refresh_token(self) -> str:
        token = f"refresh-{len(self.issued)}"
        self.refresh_tokens.add(token)
        self.issued.append(token)
        return token

    def sign_out(self) -> None:
        """The user's session at the provider ends: no refresh token works any more."""
        self.refresh_tokens.clear()

    def authorize(self, query: dict[str, str]) -> str:
        """The user signed in at the provider: the redirect back with a code."""
        code = f"code-{len(self.logins)}"
        self.logins[code] = query
        back = {"code": code, "state": query["state"]}
        return f"{query['redirect_uri']}?{urlencode(back)}"

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.exchanges.append(form)
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return 400, {"error": "invalid_grant", "error_description": "Session not active"}
            answer = {"access_token": self.access_token(), "token_type": "Bearer"}
            if self.rotate:
                self.refresh_tokens.discard(form["refresh_token"])
                answer["refresh_token"] = self.refresh_token()
            return 200, answer
        login = self.logins.pop(form.get("code", ""), None)
        if (
            login is None
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != login["redirect_uri"]
            or challenge_of(form.get("code_verifier", "")) != login["code_challenge"]
        ):
            return 400, {"error": "invalid_grant"}
        id_token = jwt.encode(
            {
                "iss": self.url,
                "aud": CLIENT,
                "sub": "kc-user-1",
                "name": "张伟",
                "nonce": self.nonce_override or login["nonce"],
                "iat": 1,
                "exp": 4_000_000_000,
            },
            self.key,
            algorithm="RS256",
            headers={"kid": self.kid},
        )
        return 200, {
            "access_token": self.access_token(),
            "id_token": id_token,
            "refresh_token": self.refresh_token(),
            "token_type": "Bearer",
            "expires_in": int(self.access_ttl.total_seconds()),
        }


def serve(provider: Provider, jwks: dict[str, Any]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:  # quiet
            pass

        def _json(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            path = urlsplit(self.path)
            if path.path == "/.well-known/openid-configuration":
                self._json(
                    200,
                    {
                        "issuer": provider.url,
                        "authorization_endpoint": f"{provider.url}/auth",
                        "token_endpoint": f"{provider.url}/token",
                        "jwks_uri": f"{provider.url}/certs",
                        "end_session_endpoint": f"{provider.url}/logout",
                    },
                )
            elif path.path == "/certs":
                self._json(200, jwks)
            elif path.path == "/auth":
                query = {k: v[0] for k, v in parse_qs(path.query).items()}
                self.send_response(302)
                self.send_header("Location", provider.authorize(query))
                self.end_headers()
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            form["authorization"] = self.headers.get("Authorization", "")
            self._json(*provider.token(form))

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[Provider]:
    private, jwks_path = generate_keys(tmp_path / "idp", kid="idp-1")
    found = Provider("", load_private_key(private.read_bytes()), kid_of(jwks_path))
    server = serve(found, json.loads(jwks_path.read_text()))
    found.url = f"http://127.0.0.1:{server.server_address[1]}"  # the port is known once bound
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()


async def oidc_portal(tmp_path: Path, provider: Provider, **overrides: Any) -> Portal:
    services = FakeServices()
    settings = portal_settings(
        tmp_path, oidc_issuer=provider.url, oidc_client_id=CLIENT, **overrides
    )
    app = create_app(settings, transport=httpx.MockTransport(services))
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://portal")
    return Portal(http, services, settings)


@pytest.fixture
async def portal(tmp_path: Path, provider: Provider) -> AsyncIterator[Portal]:
    made = await oidc_portal(tmp_path, provider)
    async with made.http:
        yield made


async def at_provider(portal: Portal, next_path: str = "/approvals") -> httpx.Response:
    """The browser's trip: the portal sends it to the provider, which sends it back."""
    start = await portal.http.get(f"/signin/oidc?next={next_path}")
    assert start.status_code == 303
    async with httpx.AsyncClient() as browser:  # real HTTP to the provider on loopback
        return await browser.get(start.headers["location"])


async def back_at_portal(portal: Portal, provider_answer: httpx.Response) -> httpx.Response:
    back = urlsplit(provider_answer.headers["location"])
    return await portal.http.get(f"{back.path}?{back.query}")


async def test_a_cadre_signs_in_and_the_apis_get_the_providers_access_token(
    portal: Portal, provider: Provider
) -> None:
    answer = await back_at_portal(portal, await at_provider(portal))
    assert answer.status_code == 303 and answer.headers["location"] == "/approvals"
    assert "token" not in answer.headers["location"]
    page = await portal.http.get("/approvals")
    assert "张伟" in page.text  # the ID token's name
    [call] = portal.services.calls("GET", "/approvals")
    assert call.headers["authorization"] == f"Bearer {provider.last_access_token}"
    assert call.url.params["org"] == "steel-rolling"  # the access token's org claim


async def test_the_request_to_the_provider_carries_pkce_state_and_nonce(
    portal: Portal, provider: Provider
) -> None:
    await back_at_portal(portal, await at_provider(portal))
    [exchange] = provider.exchanges
    assert 43 <= len(exchange["code_verifier"]) <= 128
    start = await portal.http.get("/signin/oidc")
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["response_type"] == ["code"]
    assert query["client_id"] == [CLIENT] and "openid" in query["scope"][0]
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert query["redirect_uri"] == ["http://portal/signin/callback"]
    assert PENDING_COOKIE in start.headers["set-cookie"]
    assert "httponly" in start.headers["set-cookie"].lower()


async def test_a_confidential_client_authenticates_at_the_token_endpoint(
    tmp_path: Path, provider: Provider
) -> None:
    made = await oidc_portal(tmp_path, provider, oidc_client_secret="s3cret")
    async with made.http:
        answer = await back_at_portal(made, await at_provider(made))
    assert answer.status_code == 303
    basic = base64.b64encode(f"{CLIENT}:s3cret".encode()).decode()
    assert provider.exchanges[0]["authorization"] == f"Basic {basic}"


async def test_a_callback_with_another_state_is_refused_and_nobody_is_signed_in(
    portal: Portal,
) -> None:
    answered = await at_provider(portal)
    forged = answered.headers["location"].replace("state=", "state=x")
    back = urlsplit(forged)
    answer = await portal.http.get(f"{back.path}?{back.query}")
    assert answer.status_code == 400 and "登录未完成" in answer.text
    assert (await portal.http.get("/approvals")).status_code == 303  # to sign in


async def test_a_callback_without_the_login_in_flight_is_refused(portal: Portal) -> None:
    answered = await at_provider(portal)
    portal.http.cookies.delete(PENDING_COOKIE)
    answer = await back_at_portal(portal, answered)
    assert answer.status_code == 400


async def test_an_id_token_with_another_nonce_is_refused(
    portal: Portal, provider: Provider
) -> None:
    provider.nonce_override = "replayed-nonce"
    answer = await back_at_portal(portal, await at_provider(portal))
    assert answer.status_code == 400
    assert portal.services.calls("GET", "/approvals") == []


async def test_an_access_token_without_the_org_claim_is_refused(
    portal: Portal, provider: Provider
) -> None:
    provider.claims = {"org": "", "roles": ["member"], "member_id": "m1"}
    answer = await back_at_portal(portal, await at_provider(portal))
    assert answer.status_code == 400


async def test_the_providers_error_is_shown_as_a_page(portal: Portal) -> None:
    await portal.http.get("/signin/oidc")
    answer = await portal.http.get("/signin/callback?error=access_denied&state=s")
    assert answer.status_code == 400 and "Traceback" not in answer.text


async def test_an_unreachable_provider_is_a_readable_error(tmp_path: Path) -> None:
    gone = Provider("http://127.0.0.1:9", None, "")  # discard port: nothing listens
    made = await oidc_portal(tmp_path, gone)
    async with made.http:
        answer = await made.http.get("/signin/oidc")
    assert answer.status_code == 502 and "身份认证服务暂时无法访问" in answer.text


async def test_the_sign_in_page_offers_the_provider_and_the_demo_people_with_the_demo_issuer(
    portal: Portal,
) -> None:
    page = (await portal.http.get("/signin")).text
    assert 'id="oidc-signin"' in page and 'data-person="member"' in page
    await portal.sign_in("member")  # the local demo sign-in stays
    assert (await portal.http.get("/programmes")).status_code == 200


async def test_without_the_demo_issuer_only_the_provider_signs_in(
    tmp_path: Path, provider: Provider
) -> None:
    made = await oidc_portal(tmp_path, provider, demo_private_key_path=None, demo_kid=None)
    async with made.http:
        page = (await made.http.get("/signin")).text
        assert 'id="oidc-signin"' in page and "data-person" not in page
        csrf = await made.csrf()
        refused = await made.http.post("/signin", data={"csrf": csrf, "person": "member"})
        assert refused.status_code == 404


async def test_an_access_token_about_to_expire_is_renewed_with_the_refresh_token(
    portal: Portal, provider: Provider
) -> None:
    provider.access_ttl = timedelta(seconds=30)  # within a minute of expiring: renewed
    await back_at_portal(portal, await at_provider(portal))
    before = len(provider.exchanges)
    held = provider.issued[-1]  # the refresh token the session holds now
    page = await portal.http.get("/approvals")
    assert "张伟" in page.text  # still signed in, the ID token's name kept
    [renewal] = provider.exchanges[before:]
    assert renewal["grant_type"] == "refresh_token" and renewal["client_id"] == CLIENT
    assert renewal["refresh_token"] == held
    call = portal.services.calls("GET", "/approvals")[-1]
    assert call.headers["authorization"] == f"Bearer {provider.last_access_token}"
    # The rotated refresh token is the one used next time.
    await portal.http.get("/approvals")
    assert provider.exchanges[-1]["refresh_token"] == provider.issued[-2] != held


async def test_a_token_far_from_expiry_is_used_as_it_is(portal: Portal, provider: Provider) -> None:
    await back_at_portal(portal, await at_provider(portal))
    await portal.http.get("/approvals")
    assert [e.get("grant_type") for e in provider.exchanges] == ["authorization_code"]


async def test_a_refused_renewal_signs_the_user_out(portal: Portal, provider: Provider) -> None:
    provider.access_ttl = timedelta(seconds=30)
    await back_at_portal(portal, await at_provider(portal))
    provider.sign_out()  # signed out at the provider, or disabled there
    answer = await portal.http.get("/approvals")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")
    assert portal.services.calls("GET", "/approvals") == []


async def test_signing_out_also_ends_the_session_at_the_provider(
    portal: Portal, provider: Provider
) -> None:
    await back_at_portal(portal, await at_provider(portal))
    csrf = await portal.csrf()
    answer = await portal.http.post("/signout", data={"csrf": csrf})
    assert answer.status_code == 303
    there = urlsplit(answer.headers["location"])
    assert f"{there.scheme}://{there.netloc}{there.path}" == f"{provider.url}/logout"
    query = parse_qs(there.query)
    assert query == {"client_id": [CLIENT], "post_logout_redirect_uri": ["http://portal/signin"]}
    assert (await portal.http.get("/approvals")).status_code == 303  # signed out here too


async def test_a_demo_sign_in_signs_out_at_the_portal_only(portal: Portal) -> None:
    await portal.sign_in("member")
    csrf = await portal.csrf()
    answer = await portal.http.post("/signout", data={"csrf": csrf})
    assert answer.headers["location"] == "/signin"


async def test_a_session_with_a_providers_two_tokens_fits_in_one_cookie(
    portal: Portal, provider: Provider
) -> None:
    # Keycloak's tokens with a few roles and groups: about 1,400 and 900 characters.
    provider.claims = {**provider.claims, "roles": ["cadre", "member", "reviewer", "admin"]}
    await back_at_portal(portal, await at_provider(portal))
    codec = SessionCodec(portal.settings.session_key.get_secret_value(), secure=False)
    session = codec.decode(portal.http.cookies.get(COOKIE))
    assert session.token is not None
    session.token += "x" * (1400 - len(session.token))
    session.refresh_token = "r" * 900
    assert session.via_oidc and len(codec.encode(session)) < 4096 - 200  # name, flags, path
