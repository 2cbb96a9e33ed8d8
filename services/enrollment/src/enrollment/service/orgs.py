"""Registering, changing and moving orgs — with the authority the whole federation checks
(shared.orgs.authority): the caller is an admin of the parent org, at the node hosting it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.errors import Conflict, Forbidden, NotFound, Unprocessable
from enrollment.schemas import OrgIn, OrgMoveIn
from enrollment.service.context import Context
from shared.auth import Principal, Role
from shared.contracts import topics
from shared.contracts.events import OrgLevel, OrgRegistered
from shared.orgs.authority import Org, parent_allowed


async def register_org(session: AsyncSession, ctx: Context, data: OrgIn, who: Principal) -> Org:
    """Register an org or change its name and level (not its place: see `move_org`)."""
    hosted_by = data.hosted_by or ctx.node_id
    existing = await ctx.orgs.get(data.org_id, session)
    if data.parent_id is None:
        await _check_top_org(session, ctx, data, who, existing)
    else:
        parent = await _local_parent(session, ctx, data.parent_id, "parent_id")
        if not (who.org == parent.org_id and who.has(Role.admin)):
            raise Forbidden(
                f"only an administrator of {parent.org_id} registers or changes its orgs"
            )
        _check_level(OrgLevel(data.level), OrgLevel(parent.level))
        if existing is not None and existing.parent_id != data.parent_id:
            raise Conflict(
                f"org {data.org_id} sits under {existing.parent_id}; moving it is "
                f"POST /orgs/{data.org_id}/move",
                field="parent_id",
            )
        if existing is not None and existing.hosted_by != hosted_by:
            raise Conflict(
                f"org {data.org_id} is hosted by node {existing.hosted_by}", field="hosted_by"
            )
        if existing is None and hosted_by != ctx.node_id:
            admitted = await ctx.orgs.an_org_hosted_by(hosted_by, session)
            if admitted is not None:
                raise Conflict(
                    f"node {hosted_by} is admitted already (it hosts {admitted})", field="hosted_by"
                )
    org = Org(data.org_id, data.name, data.parent_id, data.level.value, hosted_by)
    return await _write(session, ctx, org)


async def move_org(
    session: AsyncSession, ctx: Context, org_id: str, data: OrgMoveIn, who: Principal
) -> Org:
    """Put `org_id` under another parent. Both parents are hosted here, and the caller is an
    admin of an org above (or at) both of them: the authority over both places."""
    org = await ctx.orgs.get(org_id, session)
    if org is None:
        raise NotFound(f"org {org_id} is not known here")
    if org.parent_id is None:
        raise Unprocessable("the federation's top org has no parent to change", field="parent_id")
    old_parent = await _local_parent(session, ctx, org.parent_id, "parent_id")
    new_parent = await _local_parent(session, ctx, data.parent_id, "parent_id")
    if not who.has(Role.admin) or not (
        await ctx.orgs.is_within(old_parent.org_id, who.org, session)
        and await ctx.orgs.is_within(new_parent.org_id, who.org, session)
    ):
        raise Forbidden("a move is made by an administrator of an org above both parents")
    if new_parent.org_id == org_id or org_id in await ctx.orgs.ancestors(
        new_parent.org_id, session
    ):
        raise Unprocessable(f"{new_parent.org_id} is inside {org_id}: a cycle", field="parent_id")
    _check_level(OrgLevel(org.level), OrgLevel(new_parent.level))
    if new_parent.org_id == old_parent.org_id:
        return org
    moved = Org(org.org_id, org.name, new_parent.org_id, org.level, org.hosted_by)
    return await _write(session, ctx, moved)


async def _check_top_org(
    session: AsyncSession, ctx: Context, data: OrgIn, who: Principal, existing: Org | None
) -> None:
    if data.org_id != ctx.settings.root_org:
        raise Unprocessable(
            "only a node's root org can be the federation's top org", field="parent_id"
        )
    if not (who.org == data.org_id and who.has(Role.admin)):
        raise Forbidden(f"only an administrator of {data.org_id} registers it")
    if data.hosted_by not in (None, ctx.node_id):
        raise Unprocessable(
            "the top org is hosted by the node that registers it", field="hosted_by"
        )
    top = await ctx.orgs.top_org(session)
    if existing is not None or top is not None:
        raise Conflict(f"the federation's top org is registered once ({top})", field="org_id")


async def _local_parent(session: AsyncSession, ctx: Context, org_id: str, field: str) -> Org:
    parent = await ctx.orgs.get(org_id, session)
    if parent is None:
        raise NotFound(f"org {org_id} is not known here", field=field)
    if parent.hosted_by != ctx.node_id:
        raise Unprocessable(
            f"{org_id} is hosted by node {parent.hosted_by}: its orgs are changed there",
            field=field,
        )
    return parent


def _check_level(level: OrgLevel, parent_level: OrgLevel) -> None:
    if not parent_allowed(level, parent_level):
        raise Unprocessable(
            f"a {level.value} org cannot sit under a {parent_level.value} org", field="level"
        )


async def _write(session: AsyncSession, ctx: Context, org: Org) -> Org:
    # The rule every replica will apply to the event, applied here first as well.
    reason = await ctx.orgs.refusal(session, org, ctx.node_id)
    if reason is not None:
        raise Unprocessable(f"the federation would refuse this change ({reason})")
    await ctx.orgs.apply(session, org)
    event = OrgRegistered(
        org_id=org.org_id,
        name=org.name,
        parent_id=org.parent_id,
        level=OrgLevel(org.level),
        hosted_by=org.hosted_by,
    )
    await ctx.outbox.stage(session, event, topic=topics.FEDERATION)
    return org
