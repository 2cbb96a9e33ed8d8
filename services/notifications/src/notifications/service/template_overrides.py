"""Per-org template overrides: an org's cadres reword a notice (subject, title, body) for one
template and language; it applies to the org's members and to those of its sub-orgs that
have none of their own (the nearest ancestor's wins), else the default applies.

A template key is an event type, or `<event type>:<variant>` for event types whose message
depends on a value of the event (an honour's kind, who cancelled, a decision's outcome).

An override is checked before it is saved: a known template, zh or en, and only plain
`{field}` placeholders that the template's event type is given (the default templates'
placeholders and the common fields), rendering with sample values. One that fails to render
anyway (written around these checks, or a field gone) is skipped for the default: it never
holds a message up.
"""

from __future__ import annotations

import logging
import string
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import repository
from notifications.errors import NotFound, Unprocessable
from notifications.models import Delivery, Recipient, TemplateOverride
from notifications.service.context import Context
from notifications.templates import (
    LANGUAGES,
    TEMPLATES,
    VARIANTS,
    Rendered,
    Template,
    field_names,
    language_of,
    render,
)
from shared.db import Database
from shared.orgs.directory import UnknownOrg

log = logging.getLogger(__name__)

PARTS = ("subject", "title", "body")
Source = Literal["org", "inherited", "default"]


# -- what can be overridden ----------------------------------------------------------------------
def default_templates() -> dict[str, dict[str, Template]]:
    """Every template key with its default templates per language."""
    keys = dict(TEMPLATES)
    for event_type, (_, variants) in VARIANTS.items():
        for variant, templates in variants.items():
            keys[f"{event_type}:{variant}"] = templates
    return keys


def template_key(event_type: str, data: Mapping[str, Any]) -> str:
    """The key of the template a delivery of `event_type` with `data` is rendered from."""
    if event_type in VARIANTS:
        variant_of, _ = VARIANTS[event_type]
        return f"{event_type}:{variant_of(data)}"
    return event_type


def allowed_fields(key: str, defaults: Mapping[str, Template]) -> set[str]:
    """The placeholders an override of `key` may use."""
    fields: set[str] = set()
    for template in defaults.values():
        for part in PARTS:
            fields |= {
                name for _, name, _, _ in string.Formatter().parse(getattr(template, part)) if name
            }
    event_type = key.split(":", 1)[0]
    for language in LANGUAGES:
        try:
            fields |= field_names(event_type, language)
        except Exception:  # an event's own fields that cannot be computed without data
            log.warning("template %s: fields not listed", key)
    return fields


def check(key: str, language: str, parts: Mapping[str, str]) -> Template:
    """The override as a Template, or Unprocessable naming the field and placeholder at fault."""
    defaults = default_templates().get(key)
    if defaults is None:
        raise Unprocessable(f"no template {key!r} to override", field="event_type")
    if language not in LANGUAGES:
        raise Unprocessable(f"language must be one of {', '.join(LANGUAGES)}", field="language")
    allowed = allowed_fields(key, defaults)
    for part in PARTS:
        _check_placeholders(part, parts[part], allowed)
    template = Template(**{part: parts[part] for part in PARTS})
    try:
        render(key.split(":", 1)[0], language, {}, "Sample", template)
    except Exception as exc:
        raise Unprocessable(f"does not render ({type(exc).__name__})", field="body") from exc
    return template


def _check_placeholders(part: str, text: str, allowed: set[str]) -> None:
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:  # a lone { or }
        raise Unprocessable(
            f"{part} is not a valid template: {exc} (write {{{{ or }}}} for a brace)", field=part
        ) from exc
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        shown = "{" + name + (f"!{conversion}" if conversion else "")
        shown += (f":{spec}" if spec else "") + "}"
        if name not in allowed or spec or conversion:
            raise Unprocessable(
                f"{part} has the placeholder {shown}, which this template cannot use; "
                f"allowed: {', '.join('{' + f + '}' for f in sorted(allowed))}",
                field=part,
                placeholder=shown,
            )


# -- which override applies ----------------------------------------------------------------------
async def applicable(
    session: AsyncSession, ctx: Context, org_id: str, key: str, language: str
) -> TemplateOverride | None:
    """The override of `org_id`, else of its nearest ancestor with one: one indexed query."""
    chain = await _chain(session, ctx, org_id)
    found = await repository.overrides_among(session, chain, key, language)
    return next((found[org] for org in chain if org in found), None)


async def _chain(session: AsyncSession, ctx: Context, org_id: str) -> list[str]:
    try:
        return [org_id, *await ctx.orgs.ancestors(org_id, session)]
    except UnknownOrg:  # the replica is catching up: the org's own override still applies
        return [org_id]


class OverrideCache:
    """Which override applies per (org, template key, language), kept for
    `template_cache_seconds`: a fan-out to thousands of members asks the database once."""

    MAX_ENTRIES = 10_000

    def __init__(self, db: Database, ctx: Context) -> None:
        self.db = db
        self.ctx = ctx
        self._entries: OrderedDict[tuple[str, str, str], tuple[float, Template | None]] = (
            OrderedDict()
        )

    async def template_for(self, org_id: str, key: str, language: str) -> Template | None:
        entry_key = (org_id, key, language)
        now = time.monotonic()
        entry = self._entries.get(entry_key)
        if entry is not None and entry[0] > now:
            return entry[1]
        async with self.db.reading() as session:
            row = await applicable(session, self.ctx, org_id, key, language)
        template = None if row is None else Template(row.subject, row.title, row.body)
        ttl = self.ctx.settings.template_cache_seconds
        if ttl > 0:
            self._entries[entry_key] = (now + ttl, template)
            self._entries.move_to_end(entry_key)
            while len(self._entries) > self.MAX_ENTRIES:
                self._entries.popitem(last=False)
        return template

    def forget(self) -> None:
        self._entries.clear()

    async def render(self, delivery: Delivery, recipient: Recipient) -> Rendered:
        """The delivery's message: from the override that applies to the recipient's home
        org, or the default (also when the override fails to render)."""
        language = language_of(recipient.language)
        key = template_key(delivery.event_type, delivery.data)
        override = await self.template_for(recipient.home_org, key, language)
        args = (delivery.event_type, language, delivery.data, recipient.name)
        if override is not None:
            try:
                return render(*args, override)
            except Exception as exc:  # the default instead; never a message held up
                log.warning(
                    "delivery %s: the override of %s does not render (%s); default sent",
                    delivery.delivery_id,
                    key,
                    type(exc).__name__,
                )
        return render(*args)


# -- the use cases of the API ---------------------------------------------------------------------
@dataclass(frozen=True)
class Effective:
    """The template an org's members get for one key and language, and where it comes from."""

    template_key: str
    language: str
    source: Source
    org_id: str | None  # the org whose override it is
    template: Template


async def effective(
    session: AsyncSession, ctx: Context, org_id: str, key: str, language: str
) -> Effective:
    defaults = default_templates().get(key)
    if defaults is None or language not in LANGUAGES:
        raise NotFound(f"template {key} ({language}) not found")
    row = await applicable(session, ctx, org_id, key, language)
    if row is None:
        return Effective(key, language, "default", None, defaults[language])
    source: Source = "org" if row.org_id == org_id else "inherited"
    return Effective(key, language, source, row.org_id, Template(row.subject, row.title, row.body))


async def all_effective(session: AsyncSession, ctx: Context, org_id: str) -> list[Effective]:
    """Every template and language (a list bounded by the templates there are), in key order."""
    chain = await _chain(session, ctx, org_id)
    rank = {org: n for n, org in enumerate(chain)}
    nearest: dict[tuple[str, str], TemplateOverride] = {}
    for candidate in await repository.overrides_of(session, chain):
        slot = (candidate.template_key, candidate.language)
        if slot not in nearest or rank[candidate.org_id] < rank[nearest[slot].org_id]:
            nearest[slot] = candidate
    out: list[Effective] = []
    for key, defaults in sorted(default_templates().items()):
        for language in LANGUAGES:
            row = nearest.get((key, language))
            if row is None:
                out.append(Effective(key, language, "default", None, defaults[language]))
                continue
            source: Source = "org" if row.org_id == org_id else "inherited"
            template = Template(row.subject, row.title, row.body)
            out.append(Effective(key, language, source, row.org_id, template))
    return out


async def save(
    session: AsyncSession,
    ctx: Context,
    org_id: str,
    key: str,
    language: str,
    parts: Mapping[str, str],
    by: str,
) -> Effective:
    template = check(key, language, parts)
    values = {part: getattr(template, part) for part in PARTS}
    await repository.save_override(
        session,
        {
            "org_id": org_id,
            "template_key": key,
            "language": language,
            **values,
            "updated_at": ctx.clock.now(),
            "updated_by": by[:200],
        },
    )
    return Effective(key, language, "org", org_id, template)


async def remove(session: AsyncSession, ctx: Context, org_id: str, key: str, language: str) -> None:
    if not await repository.delete_override(session, org_id, key, language):
        raise NotFound(f"org {org_id} has no override of {key} ({language})")
