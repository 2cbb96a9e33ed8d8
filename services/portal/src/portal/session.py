"""The browser session: one encrypted cookie (Fernet) that holds the user's API token (and,
signed in at an OpenID provider, its refresh token and expiry), the CSRF token and a one-shot
flash message. Nothing of it is readable or forgeable by the page, and no token ever appears
in a URL or in page script. The JSON is compressed before it is encrypted: a provider's two
tokens then fit in one cookie (browsers keep 4,096 bytes)."""

from __future__ import annotations

import hmac
import json
import secrets
import zlib
from dataclasses import asdict, dataclass, field, fields

from cryptography.fernet import Fernet, InvalidToken
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "bigschool_session"
MAX_AGE_SECONDS = 8 * 3600  # as long as a demo token lives


@dataclass
class Session:
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    token: str | None = None
    name: str | None = None
    org: str | None = None
    roles: list[str] = field(default_factory=list)
    member_id: str | None = None
    # Signed in at the OpenID provider: renewed before `expires_at`, signed out there too.
    via_oidc: bool = False
    refresh_token: str | None = None
    expires_at: float | None = None
    flash: str | None = None
    flash_error: bool = False
    changed: bool = False  # not stored: whether the cookie must be written again

    @property
    def signed_in(self) -> bool:
        return self.token is not None

    def is_cadre(self) -> bool:
        return bool({"cadre", "admin"} & set(self.roles))

    def csrf_ok(self, sent: str | None) -> bool:
        return sent is not None and hmac.compare_digest(sent.encode(), self.csrf.encode())

    def reset(self) -> None:
        """Signed out, with a new CSRF token (also at sign-in: no token outlives a session)."""
        fresh = Session()
        for f in fields(self):
            if f.name not in ("flash_error", "changed"):
                setattr(self, f.name, getattr(fresh, f.name))
        self.changed = True

    def say(self, text: str, *, error: bool = False) -> None:
        """A message for the next page shown (after a redirect)."""
        self.flash, self.flash_error, self.changed = text, error, True

    def take_flash(self) -> tuple[str, bool] | None:
        if self.flash is None:
            return None
        flash, self.flash, self.changed = (self.flash, self.flash_error), None, True
        return flash


class SessionCodec:
    def __init__(self, key: str, *, secure: bool) -> None:
        self.fernet = Fernet(key.encode())
        self.secure = secure

    def encode(self, session: Session) -> str:
        data = {k: v for k, v in asdict(session).items() if k != "changed"}
        return self.fernet.encrypt(zlib.compress(json.dumps(data).encode())).decode()

    def decode(self, cookie: str | None) -> Session:
        """The session in the cookie, or a fresh anonymous one (none, expired, tampered)."""
        if not cookie:
            return Session(changed=True)
        try:
            plain = zlib.decompress(self.fernet.decrypt(cookie.encode(), ttl=MAX_AGE_SECONDS))
            return Session(**json.loads(plain))
        except (InvalidToken, ValueError, TypeError, zlib.error):
            return Session(changed=True)

    def write(self, response: Response, session: Session) -> None:
        response.set_cookie(
            COOKIE,
            self.encode(session),
            max_age=MAX_AGE_SECONDS,
            httponly=True,
            secure=self.secure,
            samesite="lax",
            path="/",
        )


def session_of(request: Request) -> Session:
    session: Session = request.state.session
    return session
