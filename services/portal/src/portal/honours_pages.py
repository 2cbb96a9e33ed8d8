"""What the honours pages (my honours, proposals, immediate rewards) share: money in yuan in
their templates, errors of a posted form split between its fields and the top of the page,
and the form's checks the portal makes before asking an API (so a person reads them in
their own language)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse

from portal import i18n
from portal.api import ApiError
from portal.honours_money import yuan
from portal.session import Session, session_of
from portal.web import PageError, lang_of, page, signed_in

PAGE = 20  # items a page of a list shows


@dataclass
class FormErrors:
    """Errors of one posted form: per field (shown next to it) and for the whole form."""

    fields: dict[str, str] = field(default_factory=dict)
    problem: str | None = None

    def __bool__(self) -> bool:
        return bool(self.fields or self.problem)

    @classmethod
    def of(cls, exc: ApiError, names: Iterable[str]) -> FormErrors:
        """An API's problem: reasons for the form's own fields go next to them; the detail,
        and reasons for anything else (`count`, `state`, …), go at the top."""
        known = set(names)
        mine = {f: reason for f, reason in exc.field_errors.items() if f in known}
        others = [f"{f}: {r}" if f else r for f, r in exc.field_errors.items() if f not in known]
        top = [] if mine and not others else [exc.detail]
        problem = "; ".join(dict.fromkeys(top + others)) or None
        return cls(mine, problem)


def text_checks(
    lang: str, form: dict[str, str], limits: dict[str, int], *, optional: Iterable[str] = ()
) -> FormErrors:
    """Required fields not blank, none longer than its limit: checked here first, in the
    reader's language; the API checks everything again."""
    errors = FormErrors()
    skip = set(optional)
    for name, most in limits.items():
        value = form.get(name, "")
        if not value.strip() and name not in skip:
            errors.fields[name] = i18n.translate(lang, "honours.field.required")
        elif len(value) > most:
            errors.fields[name] = i18n.translate(lang, "honours.field.too_long").format(n=most)
    return errors


async def all_values(request: Request, name: str) -> list[str]:
    """Every value of a repeated field (checkboxes) of the posted form, which `form_of`
    has already read and checked (Starlette keeps the body)."""
    body = (await request.body()).decode("utf-8", "replace")
    return parse_qs(body).get(name, [])


async def awards_listing(
    request: Request, session: Session, path: str, cursor: str, **params: str
) -> dict[str, Any]:
    """One page (`cursor` onwards) of a list the awards API keeps, read with the user's token."""
    assert session.token is not None
    body: dict[str, Any] = await request.app.state.services.call(
        "awards", "GET", path, session.token, params={**params, "cursor": cursor, "limit": PAGE}
    )
    return body


def member_only(request: Request) -> Session:
    """The signed-in member; a staff account (no member record) gets the 403 page."""
    session = signed_in(request)
    if session.member_id is None:
        raise PageError(403, "honours.no_member")
    return session


def done(request: Request, key: str) -> None:
    """The flash message for the page after the redirect."""
    session_of(request).say(i18n.translate(lang_of(request), key))


async def honours_page(
    request: Request, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page of this area: `yuan(fen)` in its templates, written the reader's way."""
    lang = lang_of(request)
    return await page(request, template, status, yuan=lambda fen: yuan(fen, lang), **context)
