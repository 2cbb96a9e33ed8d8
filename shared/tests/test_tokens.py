"""Bearer tokens: RS256 pinned; signature (by kid), issuer, audience and expiry all checked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from shared.auth.keys import generate_keys, kid_of
from shared.auth.principal import Principal, Role
from shared.auth.tokens import InvalidToken, TokenVerifier, issue_token

ISSUER = "bigschool-federation"
NODE = "zj"


class Keys:
    def __init__(self, folder: Path) -> None:
        self.private_path, self.jwks_path = generate_keys(folder)
        self.private_pem = self.private_path.read_bytes()
        self.kid = kid_of(self.jwks_path)
        public = jwt.PyJWKSet.from_dict(json.loads(self.jwks_path.read_text())).keys[0].key
        self.public_pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return Keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def other_keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return Keys(tmp_path_factory.mktemp("other-keys"))


@pytest.fixture
def verifier(keys: Keys) -> TokenVerifier:
    return TokenVerifier(
        issuer=ISSUER, audience=f"bigschool:{NODE}", jwks_path=keys.jwks_path, jwks_url=None
    )


def token(keys: Keys, **overrides: Any) -> str:
    args: dict[str, Any] = {
        "kid": keys.kid,
        "issuer": ISSUER,
        "node": NODE,
        "sub": "alice",
        "org": "zj-hz",
        "roles": ["cadre", "member"],
        "member_id": "7b0c5e0e-2b4d-4c4e-9d7a-1f2f3a4b5c6d",
    }
    args.update(overrides)
    return issue_token(keys.private_pem, **args)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(header: dict[str, Any], claims: dict[str, Any], sign: Any) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


def good_claims() -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "iss": ISSUER,
        "aud": f"bigschool:{NODE}",
        "sub": "mallory",
        "org": "zj",
        "roles": ["admin"],
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }


def test_a_valid_token_verifies_to_its_principal(keys: Keys, verifier: TokenVerifier) -> None:
    principal = verifier.verify(token(keys))
    assert principal == Principal(
        sub="alice",
        org="zj-hz",
        roles=frozenset({Role.cadre, Role.member}),
        member_id="7b0c5e0e-2b4d-4c4e-9d7a-1f2f3a4b5c6d",
    )
    assert principal.has(Role.cadre) and not principal.has(Role.admin)


def test_the_issued_token_pins_rs256_and_names_its_key(keys: Keys) -> None:
    header = jwt.get_unverified_header(token(keys))
    assert header["alg"] == "RS256"
    assert header["kid"] == keys.kid


def test_an_expired_token_is_refused(keys: Keys, verifier: TokenVerifier) -> None:
    stale = token(keys, now=datetime.now(UTC) - timedelta(hours=9), ttl=timedelta(hours=8))
    with pytest.raises(InvalidToken, match="Expired"):
        verifier.verify(stale)


def test_a_token_signed_with_another_key_is_refused(
    keys: Keys, other_keys: Keys, verifier: TokenVerifier
) -> None:
    # Same kid as the trusted key, wrong private key: only the signature gives it away.
    impostor = issue_token(
        other_keys.private_pem,
        kid=keys.kid,
        issuer=ISSUER,
        node=NODE,
        sub="alice",
        org="zj",
        roles=["member"],
    )
    with pytest.raises(InvalidToken, match="Signature"):
        verifier.verify(impostor)


def test_a_token_with_an_unknown_kid_is_refused(keys: Keys, verifier: TokenVerifier) -> None:
    with pytest.raises(InvalidToken, match="unknown signing key"):
        verifier.verify(token(keys, kid="someone-else"))


def test_a_token_for_another_node_is_refused(keys: Keys, verifier: TokenVerifier) -> None:
    with pytest.raises(InvalidToken, match="Audience"):
        verifier.verify(token(keys, node="js"))


def test_a_token_from_another_issuer_is_refused(keys: Keys, verifier: TokenVerifier) -> None:
    with pytest.raises(InvalidToken, match="Issuer"):
        verifier.verify(token(keys, issuer="evil-issuer"))


def test_an_unsigned_alg_none_token_is_refused(keys: Keys, verifier: TokenVerifier) -> None:
    unsigned = forged({"alg": "none", "typ": "JWT", "kid": keys.kid}, good_claims(), lambda _: b"")
    with pytest.raises(InvalidToken, match="InvalidAlgorithm"):
        verifier.verify(unsigned)
    with pytest.raises(InvalidToken):
        verifier.verify(unsigned.rstrip("."))


def test_hs256_signed_with_the_public_key_as_secret_is_refused(
    keys: Keys, verifier: TokenVerifier
) -> None:
    # The classic algorithm-confusion attack: the public key is public, so anyone can do this.
    def sign(data: bytes) -> bytes:
        return hmac.new(keys.public_pem, data, hashlib.sha256).digest()

    confused = forged({"alg": "HS256", "typ": "JWT", "kid": keys.kid}, good_claims(), sign)
    with pytest.raises(InvalidToken, match="InvalidAlgorithm"):
        verifier.verify(confused)


@pytest.mark.parametrize("claim", ["exp", "iss", "aud", "sub"])
def test_a_token_missing_a_required_claim_is_refused(
    keys: Keys, verifier: TokenVerifier, claim: str
) -> None:
    claims = good_claims()
    del claims[claim]
    unsafe = jwt.encode(claims, keys.private_pem, algorithm="RS256", headers={"kid": keys.kid})
    with pytest.raises(InvalidToken):
        verifier.verify(unsafe)


def test_a_token_without_an_org_claim_is_refused(keys: Keys, verifier: TokenVerifier) -> None:
    claims = good_claims()
    del claims["org"]
    unsafe = jwt.encode(claims, keys.private_pem, algorithm="RS256", headers={"kid": keys.kid})
    with pytest.raises(InvalidToken, match="org"):
        verifier.verify(unsafe)


def test_a_token_with_an_unknown_role_is_refused(keys: Keys, verifier: TokenVerifier) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(token(keys, roles=["member", "superuser"]))


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "x" * 50])
def test_garbage_is_refused_as_an_invalid_token(verifier: TokenVerifier, garbage: str) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(garbage)


def test_generated_keys_keep_the_private_half_private(keys: Keys) -> None:
    mode = stat.S_IMODE(keys.private_path.stat().st_mode)
    assert mode == 0o600
    jwk = json.loads(keys.jwks_path.read_text())["keys"][0]
    assert jwk["alg"] == "RS256" and jwk["use"] == "sig" and jwk["kid"] == keys.kid
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk), "private parameters in the JWKS"


def test_generating_keys_again_keeps_the_existing_pair(keys: Keys) -> None:
    before = keys.private_path.read_bytes()
    generate_keys(keys.private_path.parent)
    assert keys.private_path.read_bytes() == before
