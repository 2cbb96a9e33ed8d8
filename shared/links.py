"""Signed one-click links: an e-mail carries a link that does one thing (e.g. give up a seat)
without a login. The token names the action and its subject, is signed with the node's link
secret (shared by that node's services, never by other nodes) and expires; whoever acts on it
records that it was used, so it works once."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "bigschool.one-click-link"


class LinkRefused(Exception):
    """The link is not one this node signed, or it was changed."""


class LinkExpired(LinkRefused):
    """The link was good but is too old."""


@dataclass(frozen=True)
class Link:
    action: str
    subject: str


class LinkSigner:
    def __init__(self, secret: str, *, max_age_seconds: int) -> None:
        if len(secret) < 32:
            raise ValueError("the link secret must be at least 32 characters")
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT)
        self.max_age_seconds = max_age_seconds

    def make(self, action: str, subject: str) -> str:
        return str(self._serializer.dumps([action, subject]))

    def read(self, token: str) -> Link:
        try:
            action, subject = self._serializer.loads(token, max_age=self.max_age_seconds)
        except SignatureExpired as exc:
            raise LinkExpired("the link has expired") from exc
        except (BadSignature, ValueError, TypeError) as exc:
            raise LinkRefused("not a link of this node") from exc
        return Link(str(action), str(subject))
