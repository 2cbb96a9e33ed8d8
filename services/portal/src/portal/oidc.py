"""OpenID Connect sign-in against the federation's identity provider: the authorization code
flow with PKCE (S256), `state` and `nonce`, the provider found by its discovery document.

The ID token says who signed in (signature, issuer, audience = this client, expiry, nonce);
the access token is what the services' APIs take, so it is checked the way they check it
(shared/auth: RS256, issuer, audience `bigschool:<node>`, an `org` claim, known roles) and
kept in the session. Tokens are verified with PyJWT against the provider's JWKS; nothing of
JOSE is written here.

While the browser is away at the provider, the login in flight (state, nonce, PKCE verifier,
where to go back) waits in a short-lived encrypted cookie of its own. A provider's access
token is short-lived (Keycloak: 5 minutes): the session keeps the refresh token and renews
the access token shortly before it expires (`refresh`); signing out also ends the session
at the provider (`sign_out_url`, RP-initiated logout) when it offers that."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from cryptography.fernet import Fernet, InvalidToken

from shared.auth.keys import ALGORITHM
from shared.auth.principal import Role

PENDING_COOKIE = "bigschool_oidc"
PENDING_SECONDS = 600  # time to sign in at the provider
JWKS_REFRESH_SECONDS = 60  # an unknown key id refetches the keys at most this often
LEEWAY_SECONDS = 30  # clocks of the provider and the portal may differ a little


class SignInFailed(Exception):
    """The sign-in cannot complete; `message_key` says so to the user, `reason` to the log."""

    def __init__(self, reason: str, message_key: str = "oidc.failed") -> None:
        super().__init__(reason)
        self.reason, self.message_key = reason, message_key


@dataclass(frozen=True)
class Pending:
    state: str
    nonce: str
    verifier: str
    next: str


@dataclass(frozen=True)
class Identity:
    """Who signed in, and the token their pages call the APIs with."""

    access_token: str
    name: str
    org: str
    roles: list[str]
    member_id: str | None
    expires_at: float | None = None  # the access token's `exp` (seconds since the epoch)
    refresh_token: str | None = None


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None = None  # RP-initiated logout, when offered


def challenge_of(verifier: str) -> str:
    """PKCE S256: base64url(sha256(verifier)) without padding (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class PendingCodec:
    """The login in flight, encrypted with the session key: the page can neither read nor
    forge it, and it expires after PENDING_SECONDS."""

    def __init__(self, key: str) -> None:
        self.fernet = Fernet(key.encode())

    def encode(self, pending: Pending) -> str:
        return self.fernet.encrypt(json.dumps(asdict(pending)).encode()).decode()

    def decode(self, cookie: str | None) -> Pending | None:
        if not cookie:
            return None
        try:
            return Pending(**json.loads(self.fernet.decrypt(cookie.encode(), ttl=PENDING_SECONDS)))
        except (InvalidToken, ValueError, TypeError):
            return None


class OidcClient:
    """One provider (`issuer`) and this portal as its client. Discovery and keys are
    fetched on first use and kept; an unknown key id fetches the keys again (rotation)."""

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str | None,
        scopes: str,
        audience: str,
        timeout: float = 10,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.issuer, self.client_id, self.client_secret = issuer, client_id, client_secret
        self.scopes, self.audience, self.timeout = scopes, audience, timeout
        self.transport = transport
        self._provider: Provider | None = None
        self._keys: dict[str, Any] = {}
        self._keys_at = 0.0

    def _http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self.timeout, transport=self.transport)

    async def provider(self) -> Provider:
        if self._provider is None:
            url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
            body = await self._get_json(url)
            if body.get("issuer") != self.issuer:  # OpenID Connect Discovery §4.3
                raise SignInFailed(f"discovery names issuer {body.get('issuer')!r}")
            try:
                self._provider = Provider(
                    issuer=str(body["issuer"]),
                    authorization_endpoint=str(body["authorization_endpoint"]),
                    token_endpoint=str(body["token_endpoint"]),
                    jwks_uri=str(body["jwks_uri"]),
                    end_session_endpoint=body.get("end_session_endpoint") or None,
                )
            except KeyError as exc:
                raise SignInFailed(f"discovery document lacks {exc}") from exc
        return self._provider

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with self._http() as http:
                response = await http.get(url)
                response.raise_for_status()
                body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SignInFailed(f"{url}: {exc}", "oidc.unavailable") from exc
        if not isinstance(body, dict):
            raise SignInFailed(f"{url}: not a JSON object", "oidc.unavailable")
        return body

    async def begin(self, redirect_uri: str, next_path: str) -> tuple[str, Pending]:
        """Where to send the browser, and what to keep until it comes back."""
        provider = await self.provider()
        pending = Pending(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(64),  # 86 characters: within RFC 7636's 43 to 128
            next=next_path,
        )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": self.scopes,
                "state": pending.state,
                "nonce": pending.nonce,
                "code_challenge": challenge_of(pending.verifier),
                "code_challenge_method": "S256",
            }
        )
        separator = "&" if "?" in provider.authorization_endpoint else "?"
        return f"{provider.authorization_endpoint}{separator}{query}", pending

    async def finish(self, pending: Pending, state: str, code: str, redirect_uri: str) -> Identity:
        """The browser came back with `code`: exchange it and check both tokens."""
        if not hmac.compare_digest(state.encode(), pending.state.encode()):
            raise SignInFailed("state does not match the login in flight")
        provider = await self.provider()
        body = await self._token_request(
            provider,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": pending.verifier,
            },
        )
        id_token = body.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailed("the token response lacks id_token")
        who = await self._verify(id_token, self.client_id, provider.issuer)
        if not hmac.compare_digest(str(who.get("nonce", "")).encode(), pending.nonce.encode()):
            raise SignInFailed("the ID token's nonce is not the login's")
        return await self._identity(
            provider, body, who.get("name") or who.get("preferred_username")
        )

    async def refresh(self, refresh_token: str, name: str) -> Identity:
        """A new access token for the signed-in user (`refresh_token` grant); the provider
        may rotate the refresh token too. Refused when the user's session at the provider
        ended (signed out there, disabled, idle too long)."""
        provider = await self.provider()
        body = await self._token_request(
            provider, {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )
        identity = await self._identity(provider, body, name)
        if identity.refresh_token is None:  # not rotated: the one we had still serves
            identity = replace(identity, refresh_token=refresh_token)
        return identity

    async def sign_out_url(self, post_logout_redirect_uri: str) -> str | None:
        """Where the browser ends its session at the provider, then comes back; None when the
        provider offers no RP-initiated logout."""
        provider = await self.provider()
        if not provider.end_session_endpoint:
            return None
        query = urlencode(
            {"client_id": self.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
        )
        separator = "&" if "?" in provider.end_session_endpoint else "?"
        return f"{provider.end_session_endpoint}{separator}{query}"

    async def _token_request(self, provider: Provider, form: dict[str, str]) -> dict[str, Any]:
        # A confidential client authenticates (client_secret_basic); a public one sends
        # its id alone (and relies on PKCE at sign-in).
        auth = httpx.BasicAuth(self.client_id, self.client_secret) if self.client_secret else None
        try:
            async with self._http() as http:
                response = await http.post(
                    provider.token_endpoint,
                    data={**form, "client_id": self.client_id},
                    auth=auth or httpx.USE_CLIENT_DEFAULT,
                )
                body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SignInFailed(f"token endpoint: {exc}", "oidc.unavailable") from exc
        if response.status_code != 200 or not isinstance(body, dict):
            raise SignInFailed(f"token endpoint answered {response.status_code}: {body!r:.200}")
        if not isinstance(body.get("access_token"), str):
            raise SignInFailed("the token response lacks access_token")
        return body

    async def _identity(self, provider: Provider, body: dict[str, Any], name: Any) -> Identity:
        access_token = str(body["access_token"])
        claims = await self._verify(access_token, self.audience, provider.issuer)
        refresh_token = body.get("refresh_token")
        return _identity(
            access_token,
            str(name or claims["sub"]),
            claims,
            refresh_token if isinstance(refresh_token, str) else None,
        )

    async def _verify(self, token: str, audience: str, issuer: str) -> dict[str, Any]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = await self._key(str(kid))
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise SignInFailed(f"token refused: {type(exc).__name__}: {exc}") from exc
        return claims

    async def _key(self, kid: str) -> Any:
        if kid not in self._keys and time.monotonic() - self._keys_at > JWKS_REFRESH_SECONDS:
            provider = await self.provider()
            keyset = jwt.PyJWKSet.from_dict(await self._get_json(provider.jwks_uri))
            self._keys = {k.key_id: k.key for k in keyset.keys if k.key_id}
            self._keys_at = time.monotonic()
        if kid not in self._keys:
            raise SignInFailed(f"no key {kid!r} at the provider")
        return self._keys[kid]


def _identity(
    access_token: str, name: str, claims: dict[str, Any], refresh_token: str | None
) -> Identity:
    """The claims the APIs read (shared/auth): `org`, `roles`, `member_id`."""
    org, roles = claims.get("org"), claims.get("roles", [])
    if not isinstance(org, str) or not org:
        raise SignInFailed("the access token has no org claim")
    if not isinstance(roles, list) or not roles:
        raise SignInFailed("the access token has no roles claim")
    try:
        known = [Role(r).value for r in roles]
    except ValueError as exc:
        raise SignInFailed(f"unknown role in {roles!r}") from exc
    member_id = claims.get("member_id")
    return Identity(
        access_token,
        name,
        org,
        known,
        str(member_id) if member_id else None,
        expires_at=float(claims["exp"]),
        refresh_token=refresh_token,
    )
