"""What the recognition pages share (nominations, schemes, reviews, notices): the awards
API called with the signed-in user's token, who may open which page, and an API's refusal
turned into messages beside the form fields it names."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from portal import i18n
from portal.api import ApiError
from portal.session import Session
from portal.web import PageError, lang_of, redirect, signed_in

STAFF_ROLES = frozenset({"reviewer", "cadre", "admin"})
# A form's page shown again after a refusal: (errors beside fields, the problem on top).
Again = Callable[[dict[str, str], str | None], Awaitable[Response]]


async def awards(request: Request, session: Session, method: str, path: str, **kw: Any) -> Any:
    assert session.token is not None
    return await request.app.state.services.call("awards", method, path, session.token, **kw)


def staff_only(request: Request) -> Session:
    """A cadre, or a scheme's reviewer or veto officer (role `reviewer`)."""
    session = signed_in(request)
    if not STAFF_ROLES & set(session.roles):
        raise PageError(403, "error.403")
    return session


def say(request: Request, session: Session, key: str) -> None:
    session.say(i18n.translate(lang_of(request), key))


def refused(exc: ApiError) -> None:
    """Re-raise what is no form's business: the token (401), and a 404 that names no field
    (the thing is gone): those get the portal's error page. A 403 (not your step, recusal) is
    the form's answer, shown above it."""
    if exc.status == 401 or (exc.status == 404 and not exc.field_errors):
        raise exc


def answered(exc: ApiError) -> int:
    """The status of a page that shows an API's refusal (a service failing is a 502)."""
    return exc.status if exc.status < 500 else 502


def field_errors(exc: ApiError, names: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """The API's field errors by form field (`names`: the API's top-level field → the form's;
    `quotas[0].org_id` counts as `quotas`), and what is left for the top of the form. What
    is no form's business is re-raised first (see `refused`)."""
    refused(exc)
    shown: dict[str, str] = {}
    rest: list[str] = []
    for api_field, reason in exc.field_errors.items():
        top = re.split(r"[.\[]", api_field, maxsplit=1)[0]
        if top in names:
            shown.setdefault(names[top], reason)
        else:
            rest.append(f"{api_field}: {reason}" if api_field else reason)
    if shown and not rest:
        return shown, None
    return shown, "; ".join([exc.detail, *rest])


async def post_form(
    request: Request,
    session: Session,
    path: str,
    body: dict[str, Any],
    names: dict[str, str],
    again: Again,
    done: str,
    to: str | Callable[[Any], str],
) -> Response:
    """A form's `body` posted to the awards API. Taken: the flash `done` and a redirect to
    `to` (or to what `to` makes of the answer). Refused: `again(field errors, top problem)`,
    the form shown once more with the API's reasons (`names` as in `field_errors`)."""
    try:
        answer = await awards(request, session, "POST", path, json=body)
    except ApiError as exc:
        return await again(*field_errors(exc, names))
    say(request, session, done)
    return redirect(to if isinstance(to, str) else to(answer))


def required(form: dict[str, str], names: tuple[str, ...]) -> dict[str, str]:
    """Fields left empty: `nominations.required` beside each, before the API is asked."""
    return {name: "nominations.required" for name in names if not form.get(name, "").strip()}


def nominee_names(nomination: dict[str, Any]) -> str:
    dossier = nomination.get("dossier") or {}
    names = [n["display_name"] for n in dossier.get("nominees") or []]
    team = nomination.get("team_name")
    shown = ", ".join(names) if names else ", ".join(nomination.get("member_ids") or [])
    return f"{team} ({shown})" if team else shown


def current_stage(nomination: dict[str, Any]) -> str | None:
    """The org whose endorsement the nomination waits for, if it waits for one."""
    stages: list[str] = nomination.get("stages") or []
    index = int(nomination.get("stage_index") or 0)
    if nomination.get("status") == "endorsing" and 0 <= index < len(stages):
        return stages[index]
    return None


def average_score(nomination: dict[str, Any]) -> float | None:
    scores = [float(r["score"]) for r in nomination.get("reviews") or []]
    return sum(scores) / len(scores) if scores else None
