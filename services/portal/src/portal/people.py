"""The local demo issuer: the demo people a visitor may sign in as, and their tokens, signed
with the demo federation's key. Production signs in through OpenID Connect instead."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from shared.auth.tokens import issue_token, load_private_key


@dataclass(frozen=True)
class Person:
    """Someone the local sign-in page offers; `member_id` for a member; `subject` when staff
    are known by a given id (a scheme's officer and reviewers)."""

    key: str
    name: str
    org: str
    roles: tuple[str, ...]
    member_id: str | None = None
    subject: str | None = None

    def as_json(self) -> dict[str, object]:
        """As the people file (`load_people`) holds it."""
        row: dict[str, object] = {
            "key": self.key,
            "name": self.name,
            "org": self.org,
            "roles": list(self.roles),
        }
        if self.member_id:
            row["member_id"] = self.member_id
        if self.subject:
            row["subject"] = self.subject
        return row

    @property
    def sub(self) -> str:
        if self.subject:
            return self.subject
        return f"member:{self.member_id}" if self.member_id else f"{self.roles[0]}@{self.org}"


def load_people(path: Path | None) -> list[Person]:
    if path is None or not path.exists():
        return []
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [
        Person(
            key=str(row["key"]),
            name=str(row["name"]),
            org=str(row["org"]),
            roles=tuple(row["roles"]),
            member_id=row.get("member_id"),
            subject=row.get("subject"),
        )
        for row in rows
    ]


class DemoIssuer:
    def __init__(self, private_key_path: Path, kid: str, issuer: str, node: str) -> None:
        self.key: RSAPrivateKey = load_private_key(private_key_path.read_bytes())
        self.kid, self.issuer, self.node = kid, issuer, node

    def token_for(self, person: Person) -> str:
        return issue_token(
            self.key,
            kid=self.kid,
            issuer=self.issuer,
            node=self.node,
            sub=person.sub,
            org=person.org,
            roles=list(person.roles),
            member_id=person.member_id,
        )
