"""FastAPI dependency: every endpoint but health, readiness and metrics needs a bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shared.auth.principal import Principal, Role
from shared.auth.tokens import InvalidToken, TokenVerifier
from shared.web.problems import Forbidden, Unauthorized


def current_principal(request: Request) -> Principal:
    verifier: TokenVerifier = request.app.state.token_verifier
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("a bearer token is required")
    try:
        return verifier.verify(token.strip())
    except InvalidToken as exc:
        raise Unauthorized(f"invalid token ({exc})") from exc


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(principal: Principal, *roles: Role) -> None:
    if not principal.has(*roles):
        raise Forbidden(f"needs one of the roles: {', '.join(r.value for r in roles)}")
