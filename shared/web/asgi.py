"""What the HTTP guards (shared/web/guards.py) share: answering with a problem from plain
ASGI, and the caller the bearer-token guard put into the request's scope."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import Receive, Scope, Send

from shared.auth.principal import Principal
from shared.web.problems import Problem, problem_response

# Key of the verified caller in the ASGI scope's "state" (what `request.state` reads).
PRINCIPAL = "principal"


def principal_of(scope: Scope) -> Principal | None:
    """The caller the token guard verified for this request, if it verified one."""
    principal = scope.get("state", {}).get(PRINCIPAL)
    return principal if isinstance(principal, Principal) else None


def header(scope: Scope, name: bytes) -> str | None:
    """One request header (latin-1, as ASGI servers hand it over); `name` in lower case."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def send_problem(
    scope: Scope,
    receive: Receive,
    send: Send,
    problem: Problem,
    headers: Iterable[tuple[str, str]] = (),
) -> None:
    """Answer with `problem` before (or instead of) the app: the same body and media type as
    the problem handlers of shared/web/problems.py give."""
    response = problem_response(problem.status, problem.body(scope["path"]))
    for name, value in headers:
        response.headers[name] = value
    await response(scope, receive, send)
