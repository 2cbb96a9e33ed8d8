"""Signatures on org-tree events: anyone with write access to a topic can write any header,
so an `org.registered` carries a JWS by the writing node's key, and every node checks it
against the federation's JWKS before it believes the header's `ce_source`.

- Algorithm pinned: EdDSA (Ed25519); detached payload (RFC 7797), in the header
  `bigschool_signature`.
- Signed content: every `ce_*` header, `bigschool_orgs` and the SHA-256 of the body, as
  canonical JSON — so neither the body nor the envelope can be changed or replayed under
  another id.
- Node keys are found by `kid`, which names the node: `node:<node-id>:<version>`; a key
  signs only for its own node.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from jwt import api_jws
from jwt.algorithms import OKPAlgorithm

from shared.contracts.envelope import ORGS_HEADER
from shared.messaging.holds import Held

SIGNATURE_HEADER = "bigschool_signature"
ALGORITHM = "EdDSA"


class BadSignature(Exception):
    """The signature is missing, malformed, does not verify, or is by another node's key."""


class UnknownSigningKey(Held):
    """Signed by a key this node does not know yet (a node that joined a moment ago, whose
    key has not reached this node's copy of the federation's JWKS): held, then dead-lettered."""

    reason = "unknown_signing_key"
    field = SIGNATURE_HEADER


def key_id(node: str, version: int = 1) -> str:
    return f"node:{node}:{version}"


def node_of_kid(kid: str) -> str | None:
    kind, _, rest = kid.partition(":")
    node, _, _version = rest.partition(":")
    return node if kind == "node" and node else None


def signing_input(headers: Mapping[str, str], body: bytes) -> bytes:
    signed = {k: v for k, v in headers.items() if k.startswith("ce_") or k == ORGS_HEADER}
    signed["body_sha256"] = hashlib.sha256(body).hexdigest()
    return json.dumps(signed, sort_keys=True, separators=(",", ":")).encode()


class NodeSigner:
    """Signs with this node's private key (kept only at this node)."""

    def __init__(self, private_key: Ed25519PrivateKey, kid: str) -> None:
        self.key = private_key
        self.kid = kid

    @classmethod
    def from_pem(cls, pem: bytes, kid: str) -> NodeSigner:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("a node signing key must be an Ed25519 private key")
        return cls(key, kid)

    def sign(self, headers: Iterable[tuple[str, bytes]], body: bytes) -> str:
        text = {k: v.decode() for k, v in headers}
        return api_jws.encode(
            signing_input(text, body),
            self.key,
            algorithm=ALGORITHM,
            headers={"kid": self.kid},
            is_payload_detached=True,
        )


class FederationKeys:
    """The public keys of every node of the federation, by `kid`. Read from a file (mounted
    from the federation's JWKS); read again when a key is asked for that it does not have,
    so a new node's key is picked up without a restart."""

    def __init__(self, keys: Mapping[str, Ed25519PublicKey], path: Path | None = None) -> None:
        self.keys = dict(keys)
        self.path = path
        self._mtime = path.stat().st_mtime if path else 0.0

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any]) -> FederationKeys:
        keys: dict[str, Ed25519PublicKey] = {}
        for jwk in jwks.get("keys", []):
            kid = jwk.get("kid", "")
            if node_of_kid(kid) is None:
                continue  # not a node key
            public = OKPAlgorithm.from_jwk(jwk)
            if isinstance(public, Ed25519PublicKey):
                keys[kid] = public
        return cls(keys)

    @classmethod
    def from_file(cls, path: Path) -> FederationKeys:
        return cls(cls.from_jwks(json.loads(path.read_text())).keys, path)

    def _reload_if_changed(self) -> None:
        if self.path is None:
            return
        try:
            mtime = self.path.stat().st_mtime
            if mtime != self._mtime:
                self.keys = FederationKeys.from_file(self.path).keys
                self._mtime = mtime
        except (OSError, ValueError):
            pass  # keep the keys we have; the message is held and tried again

    def verify(self, headers: Mapping[str, str], body: bytes, node: str) -> None:
        """Raise BadSignature unless `node`'s key signed these headers and this body."""
        token = headers.get(SIGNATURE_HEADER)
        if not token:
            raise BadSignature("unsigned")
        try:
            kid = api_jws.get_unverified_header(token).get("kid", "")
        except jwt.PyJWTError as exc:
            raise BadSignature("malformed") from exc
        if node_of_kid(kid) != node:
            raise BadSignature("signed by another node's key")
        if kid not in self.keys:
            self._reload_if_changed()
        key = self.keys.get(kid)
        if key is None:
            raise UnknownSigningKey(kid)
        try:
            api_jws.decode_complete(
                token, key, algorithms=[ALGORITHM], detached_payload=signing_input(headers, body)
            )
        except jwt.PyJWTError as exc:
            raise BadSignature("does not verify") from exc


def generate_node_key(folder: Path, node: str) -> tuple[Path, str]:
    """Make `node-<node>.pem` in `folder` (kept if present) and add its public key to
    `federation-jwks.json` there. Returns the key's path and kid (demo and tests)."""
    folder.mkdir(parents=True, exist_ok=True)
    path, kid = folder / f"node-{node}.pem", key_id(node)
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        path.touch(mode=0o600)
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    key = NodeSigner.from_pem(path.read_bytes(), kid).key
    jwks_path = folder / "federation-jwks.json"
    jwks = json.loads(jwks_path.read_text()) if jwks_path.exists() else {"keys": []}
    jwk = json.loads(OKPAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "alg": ALGORITHM, "use": "sig"})
    jwks["keys"] = [k for k in jwks["keys"] if k.get("kid") != kid] + [jwk]
    jwks_path.write_text(json.dumps(jwks, indent=2))
    return path, kid
