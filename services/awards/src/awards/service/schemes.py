"""Award schemes and their rounds, at the owner's node: created by a cadre of the owner org,
published on the awards topic for every node below it; copies kept from those events."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from awards import nomination_repository as repo
from awards.errors import Conflict, Forbidden, NotFound, Unprocessable
from awards.models import Round, Scheme, SchemeStaff
from awards.schemas.schemes import RoundIn, SchemeIn
from awards.service.context import Context
from shared.auth import Principal, Role
from shared.contracts import topics
from shared.contracts.events import RoundChanged, SchemePublished


def _published(scheme: Scheme) -> SchemePublished:
    return SchemePublished.model_validate(scheme, from_attributes=True)


async def _check_quotas(session: AsyncSession, ctx: Context, data: SchemeIn, owner: str) -> None:
    for i, quota in enumerate(data.quotas):
        if await ctx.orgs.get(quota.org_id, session) is None or not await ctx.orgs.is_within(
            quota.org_id, owner, session
        ):
            raise Unprocessable(
                f"{quota.org_id} is not an org below {owner}", field=f"quotas[{i}].org_id"
            )


async def create_scheme(
    session: AsyncSession, ctx: Context, who: Principal, data: SchemeIn
) -> Scheme:
    """A cadre of the owner org creates it at the owner's node (the org of their token)."""
    if not who.has(Role.cadre) or not await ctx.orgs.hosts(who.org, session):
        raise Forbidden("a cadre of an org hosted at this node creates its schemes")
    if data.min_reviews > len(data.reviewers):
        raise Unprocessable(
            f"min_reviews {data.min_reviews} needs as many reviewers", field="min_reviews"
        )
    await _check_quotas(session, ctx, data, who.org)
    scheme = Scheme(
        scheme_id=str(uuid.uuid4()),
        owner_org=who.org,
        owned_here=True,
        kind=data.kind.value,
        title=data.title,
        description=data.description or "",
        nominee=data.nominee,
        criteria=data.criteria.model_dump(mode="json"),
        endorse_levels=[level.value for level in data.endorse_levels],
        quotas=[q.model_dump(mode="json") for q in data.quotas],
        veto_departments=[d.department for d in data.veto_departments],
        notice_days=data.notice_days,
        benefits=[b.model_dump(mode="json") for b in data.benefits],
        budget_fen=data.budget_fen,
        committed_fen=0,
        paid_fen=0,
        stipend=data.stipend.model_dump(mode="json") if data.stipend else None,
        min_reviews=data.min_reviews,
        version=1,
        published_at=ctx.clock.now(),
    )
    session.add(scheme)
    for r in data.reviewers:
        session.add(
            SchemeStaff(scheme_id=scheme.scheme_id, sub=r.sub, role="reviewer", org_id=r.org_id)
        )
    for d in data.veto_departments:
        session.add(
            SchemeStaff(
                scheme_id=scheme.scheme_id,
                sub=d.officer,
                role="veto",
                org_id=who.org,
                department=d.department,
            )
        )
    await ctx.outbox.stage(session, _published(scheme), topic=topics.AWARDS)
    return scheme


async def keep_scheme(session: AsyncSession, event: SchemePublished) -> None:
    """Another node's scheme: keep the newest version as a read-only copy."""
    scheme = await repo.get_scheme(session, event.scheme_id)
    if scheme is not None and (scheme.owned_here or scheme.version >= event.version):
        return
    values = event.model_dump(mode="json", exclude={"published_at"})
    if scheme is None:
        scheme = Scheme(owned_here=False, committed_fen=0, paid_fen=0, min_reviews=1)
        session.add(scheme)
    for name, value in values.items():
        setattr(scheme, name, value)
    scheme.published_at = event.published_at


async def visible_scheme(
    session: AsyncSession, ctx: Context, who: Principal, scheme_id: str
) -> Scheme:
    """A scheme is visible to those whose org is its owner or below it (404 otherwise)."""
    scheme = await repo.get_scheme(session, scheme_id)
    if scheme is None or not await ctx.orgs.is_within(who.org, scheme.owner_org, session):
        raise NotFound(f"no scheme {scheme_id} here", field="scheme_id")
    return scheme


def require_owner_cadre(who: Principal, scheme: Scheme, what: str) -> None:
    if not (who.has(Role.cadre) and who.org == scheme.owner_org and scheme.owned_here):
        raise Forbidden(f"only a cadre of {scheme.owner_org}, at its node, may {what}")


def _round_changed(round_: Round) -> RoundChanged:
    return RoundChanged.model_validate(round_, from_attributes=True)


async def open_round(
    session: AsyncSession, ctx: Context, who: Principal, scheme: Scheme, data: RoundIn
) -> Round:
    require_owner_cadre(who, scheme, "open a round")
    now = ctx.clock.now()
    if data.deadline <= now:
        raise Unprocessable("the deadline has passed already", field="deadline")
    round_ = Round(
        round_id=str(uuid.uuid4()),
        scheme_id=scheme.scheme_id,
        owner_org=scheme.owner_org,
        name=data.name,
        year=data.year,
        status="open",
        opens_at=now,
        deadline=data.deadline,
        changed_at=now,
    )
    session.add(round_)
    await ctx.outbox.stage(session, _round_changed(round_), topic=topics.AWARDS)
    return round_


async def change_round(session: AsyncSession, ctx: Context, round_: Round, status: str) -> None:
    """Close or publish: the round's new state goes out to every node below the owner."""
    round_.status = status
    round_.changed_at = ctx.clock.now()
    await ctx.outbox.stage(session, _round_changed(round_), topic=topics.AWARDS)


async def close_round(
    session: AsyncSession, ctx: Context, who: Principal, scheme: Scheme, round_: Round
) -> None:
    require_owner_cadre(who, scheme, "close a round")
    if round_.status != "open":
        raise Conflict(f"the round is {round_.status}, not open")
    await change_round(session, ctx, round_, "closed")


async def keep_round(session: AsyncSession, event: RoundChanged) -> None:
    round_ = await repo.get_round(session, event.round_id)
    if round_ is not None and round_.changed_at >= event.changed_at:
        return
    if round_ is None:
        round_ = Round(round_id=event.round_id)
        session.add(round_)
    for name, value in event.model_dump(exclude={"round_id"}).items():
        setattr(round_, name, value)
