"""FastAPI dependency: every endpoint but health, readiness and metrics needs a bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shared.auth.principal import Principal, Role
from shared.auth.tokens import InvalidToken, TokenVerifier
from shared.web.asgi import PRINCIPAL
from shared.web.problems import Forbidden, Unauthorized


def authenticate(verifier: TokenVerifier, authorization: str | None) -> Principal:
    """The caller of an `Authorization` header's bearer token, or `Unauthorized` saying why."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("a bearer token is required")
    try:
        return verifier.verify(token.strip())
    except InvalidToken as exc:
        raise Unauthorized(f"invalid token ({exc})") from exc


async def current_principal(request: Request) -> Principal:  # async: no thread hop
    # The token guard (shared/web/authn.py) verified the token before the body was read; an
    # app built without it (a bare router in a test) still gets the same check here.
    if isinstance(verified := getattr(request.state, PRINCIPAL, None), Principal):
        return verified
    verifier: TokenVerifier = request.app.state.token_verifier
    return authenticate(verifier, request.headers.get("authorization"))


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(principal: Principal, *roles: Role) -> None:
    if not principal.has(*roles):
        raise Forbidden(f"needs one of the roles: {', '.join(r.value for r in roles)}")
