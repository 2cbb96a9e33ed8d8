"""Issuing and verifying tokens. The algorithm is pinned; iss, aud, exp and sub are required."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from shared.auth.keys import ALGORITHM
from shared.auth.principal import Principal, Role


class InvalidToken(Exception):
    """The token is missing, expired, wrongly signed or not meant for this node."""


def load_private_key(pem: bytes) -> RSAPrivateKey:
    """Parse once, sign many times: loading a PEM checks the key and takes milliseconds."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("the signing key must be an RSA private key")
    return key


def issue_token(
    private_key: bytes | RSAPrivateKey,
    *,
    kid: str,
    issuer: str,
    node: str,
    sub: str,
    org: str,
    roles: list[str],
    member_id: str | None = None,
    ttl: timedelta = timedelta(hours=8),
    now: datetime | None = None,
) -> str:
    at = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": f"bigschool:{node}",
        "sub": sub,
        "org": org,
        "roles": roles,
        "iat": int(at.timestamp()),
        "exp": int((at + ttl).timestamp()),
    }
    if member_id:
        claims["member_id"] = member_id
    return jwt.encode(claims, private_key, algorithm=ALGORITHM, headers={"kid": kid})


class TokenVerifier:
    """Checks signature (key by `kid`), issuer, audience and expiry."""

    def __init__(
        self, *, issuer: str, audience: str, jwks_path: Path | None, jwks_url: str | None
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self._keys: dict[str, Any] = {}
        self._client = jwt.PyJWKClient(jwks_url) if jwks_url else None
        if jwks_path is not None:
            keyset = jwt.PyJWKSet.from_dict(json.loads(Path(jwks_path).read_text()))
            self._keys = {k.key_id: k.key for k in keyset.keys if k.key_id}

    @property
    def may_fetch_keys(self) -> bool:
        """Whether `verify` may fetch the JWKS over the network (and so block a while)."""
        return self._client is not None

    def _key_for(self, token: str) -> Any:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        if not isinstance(kid, str):
            raise InvalidToken("unknown signing key")
        if kid in self._keys:
            return self._keys[kid]
        if self._client is not None:
            try:
                return self._client.get_signing_key(kid).key
            except jwt.PyJWTError as exc:
                raise InvalidToken("unknown signing key") from exc
        raise InvalidToken("unknown signing key")

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key_for(token),
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
            roles = frozenset(Role(r) for r in claims.get("roles", []))
        except (jwt.PyJWTError, ValueError) as exc:
            raise InvalidToken(type(exc).__name__) from exc
        if not isinstance(claims.get("org"), str):
            raise InvalidToken("missing org claim")
        return Principal(
            sub=claims["sub"], org=claims["org"], roles=roles, member_id=claims.get("member_id")
        )
