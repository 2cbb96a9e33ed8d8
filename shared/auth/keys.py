"""Signing keys for the demo and tests: an RSA key pair, the public half as a JWKS."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ALGORITHM = "RS256"


def generate_keys(folder: Path, kid: str = "demo-1") -> tuple[Path, Path]:
    """Write `private.pem` and `jwks.json` into `folder` (kept if they already exist)."""
    folder.mkdir(parents=True, exist_ok=True)
    private_path, jwks_path = folder / "private.pem", folder / "jwks.json"
    if private_path.exists() and jwks_path.exists():
        return private_path, jwks_path
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    private_path.chmod(0o600)
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "alg": ALGORITHM, "use": "sig"})
    jwks_path.write_text(json.dumps({"keys": [jwk]}, indent=2))
    return private_path, jwks_path


def kid_of(jwks_path: Path) -> str:
    return str(json.loads(jwks_path.read_text())["keys"][0]["kid"])
