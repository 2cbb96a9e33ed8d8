"""My notification preferences: language, time zone, quiet hours, digest hour and the
channels of each kind of notice. A value left to the org follows the org's policy (`null`
to the API). The API's refusals are shown next to the field they name."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from portal import i18n
from portal.api import ApiError, Services
from portal.enrollment_pages import form_with_blanks, say
from portal.nav import MEMBER, NavItem
from portal.web import page, redirect, signed_in

router = APIRouter()
NAV = (NavItem("/preferences", "prefs.nav", MEMBER),)
CHANNELS = ("inapp", "email", "sms")
HOURS = tuple(range(24))
TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
ORG = ""  # the form's value for "as my org's policy says"


def _form_values(prefs: dict[str, Any], kinds: list[dict[str, Any]]) -> dict[str, Any]:
    """The stored preferences as the form shows them."""
    quiet = prefs.get("quiet_hours")
    start, end = quiet.split("-", 1) if quiet and quiet != "off" else ("", "")
    digest = prefs.get("digest_hour")
    chosen = prefs.get("channels") or {}
    return {
        "language": prefs.get("language") or ORG,
        "time_zone": prefs.get("time_zone") or "",
        "quiet": ORG if quiet is None else ("off" if quiet == "off" else "window"),
        "quiet_from": start,
        "quiet_to": end,
        "digest": ORG if digest is None else str(digest),
        "own": {k["kind"]: k["kind"] in chosen for k in kinds},
        "channels": {k["kind"]: chosen.get(k["kind"], k["channels"]) for k in kinds},
    }


def _body_of(
    fields: dict[str, str], kinds: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The PUT body from the form, and the fields the portal itself finds wrong."""
    errors: dict[str, str] = {}
    language = fields.get("language") or None
    quiet: str | None = None
    mode = fields.get("quiet", ORG)
    if mode == "off":
        quiet = "off"
    elif mode == "window":
        start, end = fields.get("quiet_from", ""), fields.get("quiet_to", "")
        if not (TIME.match(start) and TIME.match(end)):
            errors["quiet_hours"] = "prefs.quiet_times"
        elif start == end:
            errors["quiet_hours"] = "prefs.quiet_same"
        else:
            quiet = f"{start}-{end}"
    digest: int | str | None = None
    chosen_digest = fields.get("digest", ORG)
    if chosen_digest == "off":
        digest = "off"
    elif chosen_digest.isdigit() and int(chosen_digest) in HOURS:
        digest = int(chosen_digest)
    channels = {
        k["kind"]: [c for c in CHANNELS if fields.get(f"ch.{k['kind']}.{c}") == "on"]
        for k in kinds
        if fields.get(f"own.{k['kind']}") == "on"
    }
    body = {
        "language": language if language in i18n.LANGUAGES else None,
        "time_zone": fields.get("time_zone", "").strip() or None,
        "quiet_hours": quiet,
        "digest_hour": digest,
        "channels": channels,
    }
    return body, errors


async def _current(services: Services, token: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    prefs, kinds = await asyncio.gather(
        services.call("notifications", "GET", "/preferences/me", token),
        services.call("notifications", "GET", "/preferences/kinds", token),
    )
    return prefs, kinds["kinds"]


@router.get("/preferences")
async def preferences(request: Request) -> Response:
    session = signed_in(request)
    assert session.token is not None
    prefs, kinds = await _current(request.app.state.services, session.token)
    return await page(
        request, "enrollment/preferences.html", prefs=prefs, kinds=kinds,
        values=_form_values(prefs, kinds), errors={}, channels=CHANNELS, hours=HOURS,
    )  # fmt: skip


@router.post("/preferences")
async def save(request: Request) -> Response:
    session = signed_in(request)
    assert session.token is not None
    fields = await form_with_blanks(request)
    services: Services = request.app.state.services
    prefs, kinds = await _current(services, session.token)
    body, errors = _body_of(fields, kinds)
    lang = i18n.pick(request.cookies.get(i18n.COOKIE))
    shown = {f: i18n.translate(lang, key) for f, key in errors.items()}
    if not errors:
        try:
            await services.call("notifications", "PUT", "/preferences/me", session.token, json=body)
        except ApiError as exc:
            if exc.status in (401, 403) and not exc.field_errors:
                raise
            shown = dict(exc.field_errors) or {"": exc.detail}
    if shown:
        # What was chosen stays on the form, each refusal beside its field.
        values = _form_values(body | {"quiet_hours": None, "digest_hour": None}, kinds)
        values |= {k: fields.get(k, "") for k in ("quiet", "quiet_from", "quiet_to", "digest")}
        values["time_zone"] = fields.get("time_zone", "")
        return await page(
            request, "enrollment/preferences.html", 422, prefs=prefs, kinds=kinds,
            values=values, errors=_by_form_field(shown), channels=CHANNELS, hours=HOURS,
        )  # fmt: skip
    say(request, session, "prefs.saved")
    response = redirect("/preferences")
    if body["language"]:
        response.set_cookie(
            i18n.COOKIE, body["language"], max_age=365 * 86400, samesite="lax", httponly=True
        )
    return response


def _by_form_field(errors: dict[str, str]) -> dict[str, str]:
    """`channels.learning.0` is shown beside the kind's fieldset (`channels.learning`)."""
    shown: dict[str, str] = {}
    for name, reason in errors.items():
        parts = name.split(".")
        key = ".".join(parts[:2]) if parts[0] == "channels" else (parts[0] or "form")
        shown[key] = f"{shown[key]}; {reason}" if key in shown else reason
    return shown
