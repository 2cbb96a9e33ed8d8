"""SQL of schemes, rounds and nominations (the replica, the trail, dossiers, the owner's
reviews and veto checks). A read `for_update` locks the row and refreshes it: an object the
session read before the lock would otherwise keep its stale values."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from sqlalchemy import Select, String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from awards.models import (
    Dossier,
    Nomination,
    NominationMember,
    NominationStep,
    QuotaUse,
    Review,
    Round,
    Scheme,
    SchemeStaff,
    VetoCheck,
)
from shared.db import get_row


async def get_scheme(
    session: AsyncSession, scheme_id: str, *, for_update: bool = False
) -> Scheme | None:
    return await get_row(session, Scheme, scheme_id, for_update=for_update)


async def schemes_owned_by(
    session: AsyncSession, orgs: Sequence[str], *, after: str | None, limit: int
) -> list[Scheme]:
    stmt = select(Scheme).where(Scheme.owner_org.in_(orgs))
    if after is not None:
        stmt = stmt.where(Scheme.scheme_id > after)
    stmt = stmt.order_by(Scheme.scheme_id).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def staff(session: AsyncSession, scheme_id: str, role: str) -> list[SchemeStaff]:
    stmt = select(SchemeStaff).where(SchemeStaff.scheme_id == scheme_id, SchemeStaff.role == role)
    return list((await session.execute(stmt)).scalars())


async def staff_member(
    session: AsyncSession, scheme_id: str, sub: str, role: str
) -> SchemeStaff | None:
    return await session.get(SchemeStaff, (scheme_id, sub, role))


async def get_round(
    session: AsyncSession, round_id: str, *, for_update: bool = False
) -> Round | None:
    return await get_row(session, Round, round_id, for_update=for_update)


async def rounds_of(session: AsyncSession, scheme_id: str) -> list[Round]:
    """A scheme's rounds: one a year, a handful."""
    stmt = select(Round).where(Round.scheme_id == scheme_id).order_by(Round.opens_at.desc())
    return list((await session.execute(stmt)).scalars())


async def get_nomination(
    session: AsyncSession, nomination_id: str, *, for_update: bool = False
) -> Nomination | None:
    return await get_row(session, Nomination, nomination_id, for_update=for_update)


async def nominations_of_round(
    session: AsyncSession,
    round_id: str,
    *,
    statuses: Sequence[str] | None = None,
    after: str | None = None,
    limit: int,
) -> list[Nomination]:
    stmt = select(Nomination).where(Nomination.round_id == round_id)
    if statuses:
        stmt = stmt.where(Nomination.status.in_(statuses))
    if after is not None:
        stmt = stmt.where(Nomination.nomination_id > after)
    stmt = stmt.order_by(Nomination.nomination_id).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def nominations_involving(
    session: AsyncSession,
    org_id: str,
    *,
    statuses: Sequence[str] | None,
    after: str | None,
    limit: int,
) -> list[Nomination]:
    """Nominations `org_id` filed, endorses (one of their `stages`) or owns, in id order. The
    stages are a JSON list, portable across databases only as text: it is matched for the
    quoted id, the LIKE wildcards escaped."""
    quoted = '"' + org_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"'
    stmt = select(Nomination).where(
        or_(
            Nomination.home_org == org_id,
            Nomination.owner_org == org_id,
            cast(Nomination.stages, String).like(f"%{quoted}%", escape="\\"),
        )
    )
    return await _page(session, stmt, statuses, after, limit)


async def nominations_of_schemes(
    session: AsyncSession,
    scheme_ids: Sequence[str],
    *,
    statuses: Sequence[str] | None,
    after: str | None,
    limit: int,
) -> list[Nomination]:
    stmt = select(Nomination).where(Nomination.scheme_id.in_(scheme_ids))
    return await _page(session, stmt, statuses, after, limit)


async def staff_roles_of(session: AsyncSession, sub: str) -> list[SchemeStaff]:
    """Every panel seat and veto department a staff account holds here: a handful."""
    stmt = select(SchemeStaff).where(SchemeStaff.sub == sub)
    return list((await session.execute(stmt)).scalars())


async def _page(
    session: AsyncSession,
    stmt: Select[Nomination],
    statuses: Sequence[str] | None,
    after: str | None,
    limit: int,
) -> list[Nomination]:
    if statuses:
        stmt = stmt.where(Nomination.status.in_(statuses))
    if after is not None:
        stmt = stmt.where(Nomination.nomination_id > after)
    stmt = stmt.order_by(Nomination.nomination_id).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def each_nomination_of_round(
    session: AsyncSession, round_id: str, statuses: Sequence[str], batch: int = 500
) -> AsyncIterator[Nomination]:
    """Every nomination of the round in those statuses, a batch at a time (a round may hold
    thousands: never all in memory at once)."""
    after: str | None = None
    while True:
        page = await nominations_of_round(
            session, round_id, statuses=statuses, after=after, limit=batch
        )
        for row in page:
            yield row
        if len(page) < batch:
            return
        after = page[-1].nomination_id


async def count_undecided(session: AsyncSession, round_id: str, statuses: Sequence[str]) -> int:
    stmt = select(func.count()).where(
        Nomination.round_id == round_id,
        Nomination.status.in_(statuses),
        Nomination.decision.is_(None),
    )
    return int((await session.execute(stmt)).scalar_one())


async def already_nominated(
    session: AsyncSession, round_id: str, member_ids: Sequence[str]
) -> list[str]:
    stmt = select(NominationMember.member_id).where(
        NominationMember.round_id == round_id, NominationMember.member_id.in_(member_ids)
    )
    return list((await session.execute(stmt)).scalars())


async def quota_used(session: AsyncSession, round_id: str, org_id: str) -> int:
    stmt = select(func.count()).where(QuotaUse.round_id == round_id, QuotaUse.org_id == org_id)
    return int((await session.execute(stmt)).scalar_one())


async def trail(session: AsyncSession, nomination_id: str) -> list[NominationStep]:
    """All steps of one nomination, in order: a few dozen at most."""
    stmt = (
        select(NominationStep)
        .where(NominationStep.nomination_id == nomination_id)
        .order_by(NominationStep.step)
    )
    return list((await session.execute(stmt)).scalars())


async def latest_dossier(session: AsyncSession, nomination_id: str) -> Dossier | None:
    stmt = (
        select(Dossier)
        .where(Dossier.nomination_id == nomination_id)
        .order_by(Dossier.version.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def reviews_of(session: AsyncSession, nomination_id: str) -> list[Review]:
    stmt = select(Review).where(Review.nomination_id == nomination_id).order_by(Review.at)
    return list((await session.execute(stmt)).scalars())


async def veto_checks_of(session: AsyncSession, nomination_id: str) -> list[VetoCheck]:
    stmt = select(VetoCheck).where(VetoCheck.nomination_id == nomination_id)
    return list((await session.execute(stmt)).scalars())


async def latest_dossiers(
    session: AsyncSession, nomination_ids: Sequence[str]
) -> dict[str, Dossier]:
    """The newest dossier of each of those nominations (a batch's worth; a few versions each)."""
    stmt = (
        select(Dossier)
        .where(Dossier.nomination_id.in_(nomination_ids))
        .order_by(Dossier.nomination_id, Dossier.version)
    )
    return {d.nomination_id: d for d in (await session.execute(stmt)).scalars()}
