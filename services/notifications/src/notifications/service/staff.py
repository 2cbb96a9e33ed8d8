"""The staff directory: who of an org this node tells of what needs their action.

A staff member is a recipient like a member (contact data in `recipients`, under
`staff_recipient_id(org, sub)`, with their org as home org), so the dispatcher, the inbox
and the delivery log serve them unchanged. Their duties say which needs-action notices
(`service/staff_rules.py`) reach them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import repository
from notifications.domain.staff import staff_recipient_id
from notifications.errors import NotFound
from notifications.models import Recipient, StaffDuty, StaffMember
from notifications.service.context import Context
from shared.db import upsert

# The duties a staff member may have; `veto:<department>` names one of the departments that
# check a scheme's nominations (as the scheme lists it).
DUTIES = ("approvals", "endorsements", "reviews", "objections", "admin")
VETO = "veto:"
DUTY_PATTERN = re.compile(r"^(approvals|endorsements|reviews|objections|admin|veto:\S.{0,99})$")
MAX_DUTIES = 50


def veto_duty(department: str) -> str:
    return f"{VETO}{department}"


@dataclass(frozen=True)
class Contact:
    name: str
    email: str | None
    phone: str | None
    language: str


@dataclass(frozen=True)
class StaffEntry:
    """One staff member as the directory shows them (to their org's cadres and themselves)."""

    org: str
    sub: str
    recipient_id: str
    name: str
    email: str | None
    phone: str | None
    language: str
    duties: list[str]
    updated_at: datetime


async def _hosted_here(session: AsyncSession, ctx: Context, org_id: str) -> None:
    org = await ctx.orgs.get(org_id, session)
    if org is None or org.hosted_by != ctx.node_id:
        raise NotFound(f"org {org_id} is not hosted by this node")


async def save_staff(
    session: AsyncSession,
    ctx: Context,
    org: str,
    sub: str,
    contact: Contact,
    duties: Sequence[str] | None,
) -> StaffEntry:
    """Create or replace a staff member's contact data and, unless `duties` is None (the
    person's own update), their duties."""
    await _hosted_here(session, ctx, org)
    now = ctx.clock.now()
    recipient_id = staff_recipient_id(org, sub)
    await upsert(
        session,
        StaffMember,
        {"org": org, "sub": sub, "recipient_id": recipient_id, "updated_at": now},
        ["org", "sub"],
    )
    await repository.save_recipient(
        session,
        {
            "member_id": recipient_id,
            "home_org": org,
            "name": contact.name,
            "email": contact.email,
            "phone": contact.phone,
            "language": contact.language,
            "updated_at": now,
        },
    )
    if duties is not None:
        await session.execute(delete(StaffDuty).where(StaffDuty.org == org, StaffDuty.sub == sub))
        rows = [{"org": org, "sub": sub, "duty": d} for d in dict.fromkeys(duties)]
        if rows:
            await session.execute(insert(StaffDuty), rows)
    entry = await get_staff(session, org, sub)
    assert entry is not None  # written just above, in this transaction
    return entry


async def remove_staff(session: AsyncSession, org: str, sub: str) -> None:
    """The staff member and everything naming them here: contact data, duties, their
    notices and inbox."""
    member = await session.get(StaffMember, (org, sub))
    if member is None:
        raise NotFound(f"staff member {sub} of {org} not found")
    await session.execute(delete(StaffDuty).where(StaffDuty.org == org, StaffDuty.sub == sub))
    await session.delete(member)
    await repository.forget_member(session, member.recipient_id)


async def _duties_of(session: AsyncSession, org: str, subs: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {sub: [] for sub in subs}
    if not subs:
        return found
    stmt = (
        select(StaffDuty.sub, StaffDuty.duty)
        .where(StaffDuty.org == org, StaffDuty.sub.in_(subs))
        .order_by(StaffDuty.sub, StaffDuty.duty)
    )
    for sub, duty in await session.execute(stmt):
        found[sub].append(duty)
    return found


async def staff_page(
    session: AsyncSession, org: str, *, after: str | None, limit: int
) -> list[StaffEntry]:
    """The org's staff in `sub` order, after the `sub` of the previous page."""
    stmt = (
        select(StaffMember, Recipient)
        .join(Recipient, Recipient.member_id == StaffMember.recipient_id)
        .where(StaffMember.org == org)
    )
    if after is not None:
        stmt = stmt.where(StaffMember.sub > after)
    rows = list(await session.execute(stmt.order_by(StaffMember.sub).limit(limit)))
    duties = await _duties_of(session, org, [member.sub for member, _ in rows])
    return [_entry(member, recipient, duties[member.sub]) for member, recipient in rows]


async def get_staff(session: AsyncSession, org: str, sub: str) -> StaffEntry | None:
    stmt = (
        select(StaffMember, Recipient)
        .join(Recipient, Recipient.member_id == StaffMember.recipient_id)
        .where(StaffMember.org == org, StaffMember.sub == sub)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    duties = await _duties_of(session, org, [sub])
    return _entry(row[0], row[1], duties[sub])


def _entry(member: StaffMember, recipient: Recipient, duties: list[str]) -> StaffEntry:
    return StaffEntry(
        org=member.org,
        sub=member.sub,
        recipient_id=member.recipient_id,
        name=recipient.name,
        email=recipient.email,
        phone=recipient.phone,
        language=recipient.language,
        duties=duties,
        updated_at=member.updated_at,
    )


async def staff_with_duty(
    session: AsyncSession, org: str, duty: str, *, after: str | None, limit: int
) -> list[tuple[str, str]]:
    """The next `limit` (sub, recipient id) of the org's staff with `duty`, in `sub` order."""
    stmt = (
        select(StaffDuty.sub, StaffMember.recipient_id)
        .join(StaffMember, (StaffMember.org == StaffDuty.org) & (StaffMember.sub == StaffDuty.sub))
        .where(StaffDuty.org == org, StaffDuty.duty == duty)
    )
    if after is not None:
        stmt = stmt.where(StaffDuty.sub > after)
    rows = await session.execute(stmt.order_by(StaffDuty.sub).limit(limit))
    return [(sub, recipient_id) for sub, recipient_id in rows]
