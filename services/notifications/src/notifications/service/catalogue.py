"""This node's store of programme and scheme titles (and what reminders and veto checks need
of them), from the programmes on the enrollment topic and the schemes on the awards topic.

Notices that name a programme or a scheme only by id get its title from here (`titles`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.models import FanoutJob, Programme, Scheme
from notifications.service.context import Context
from shared.contracts.events import ProgrammeCancelled, ProgrammePublished, SchemePublished
from shared.db import upsert
from shared.messaging.holds import Held


class UnknownScheme(Held):
    """A nomination whose scheme has not arrived yet (the awards topic is keyed by scheme and
    by nomination: no order between them): held for a while, then dead-lettered."""

    reason = "unknown_scheme"
    field = "state.scheme_id"


async def save_programme(session: AsyncSession, ctx: Context, event: ProgrammePublished) -> None:
    """Full state (published or changed): the newest wins, on the topic's per-programme order."""
    await upsert(
        session,
        Programme,
        {
            "programme_id": event.programme_id,
            "owner_org": event.owner_org,
            "title": event.title[:500],
            "starts_at": event.starts_at,
            "ends_at": event.ends_at,
            "place": event.place[:500] if event.place else None,
            "cancelled": False,
            "updated_at": ctx.clock.now(),
        },
        ["programme_id"],
    )


async def cancel_programme(session: AsyncSession, ctx: Context, event: ProgrammeCancelled) -> None:
    programme = await session.get(Programme, event.programme_id)
    if programme is not None:
        programme.cancelled = True
        programme.updated_at = ctx.clock.now()


async def save_scheme(session: AsyncSession, event: SchemePublished) -> None:
    """Full state per scheme: a version older than the one kept is ignored."""
    kept = await session.get(Scheme, event.scheme_id)
    if kept is not None and kept.version >= event.version:
        return
    await upsert(
        session,
        Scheme,
        {
            "scheme_id": event.scheme_id,
            "owner_org": event.owner_org,
            "title": event.title,
            "veto_departments": list(dict.fromkeys(event.veto_departments)),
            "version": event.version,
        },
        ["scheme_id"],
    )


async def get_programme(session: AsyncSession, programme_id: str) -> Programme | None:
    return await session.get(Programme, programme_id)


async def get_scheme(session: AsyncSession, scheme_id: str) -> Scheme | None:
    return await session.get(Scheme, scheme_id)


def _scheme_id(data: Mapping[str, Any]) -> str | None:
    state = data.get("state")
    nominated = state.get("scheme_id") if isinstance(state, Mapping) else None
    scheme = data.get("scheme_id") or nominated
    return scheme if isinstance(scheme, str) else None


async def titles(session: AsyncSession, data: Mapping[str, Any]) -> dict[str, str]:
    """The titles a notice's data (an event's values) lacks: `programme_title` for a
    `programme_id`, `scheme_title` for a scheme (its own, its nomination's, or its public
    notice's as the notice's fan-out keeps it), when known."""
    found: dict[str, str] = {}
    programme_id = data.get("programme_id")
    if isinstance(programme_id, str) and not data.get("programme_title"):
        title = await session.scalar(
            select(Programme.title).where(Programme.programme_id == programme_id)
        )
        if title:
            found["programme_title"] = title
    scheme_id = _scheme_id(data)
    if scheme_id is not None and not data.get("scheme_title"):
        title = await session.scalar(select(Scheme.title).where(Scheme.scheme_id == scheme_id))
        if title:
            found["scheme_title"] = title
    notice_id = data.get("notice_id")
    if isinstance(notice_id, str) and "scheme_title" not in found and not data.get("scheme_title"):
        stmt = select(FanoutJob.data).where(FanoutJob.notice_id == notice_id)
        notice = await session.scalar(stmt)
        title = notice.get("scheme_title") if isinstance(notice, Mapping) else None
        if isinstance(title, str) and title:
            found["scheme_title"] = title
    return found
