"""Notification preferences: the caller's own, the catalogue of kinds, and org policies."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import preferences_repository as store
from notifications import repository
from notifications.api.deps import Ctx, Db
from notifications.domain.preferences import DIGEST_OFF, Policy, Preferences
from notifications.domain.timing import describe
from notifications.errors import Forbidden, NotFound
from notifications.schemas_preferences import (
    DigestHour,
    EffectiveOut,
    KindOut,
    KindsOut,
    PolicyIn,
    PolicyOut,
    PreferencesIn,
    PreferencesOut,
)
from notifications.service.context import Context
from notifications.service.inbox import recipient_of
from notifications.service.preferences import (
    catalogue,
    effective_policy,
    home_org_of,
    preferences_of,
    save_member_preferences,
    save_org_policy,
)
from shared.auth import Principal, Role
from shared.auth.dependencies import CurrentPrincipal
from shared.web.fields import OrgId

router = APIRouter(tags=["preferences"])


def _digest(hour: int | None) -> DigestHour:
    return "off" if hour is None or hour == DIGEST_OFF else hour


async def _mine(session: AsyncSession, ctx: Context, who: Principal) -> PreferencesOut:
    me = recipient_of(who)
    home_org = await home_org_of(session, me, who.org)
    prefs = await preferences_of(session, ctx, me, home_org)
    stored = (await store.member_preferences(session, [me])).get(me)
    recipient = await repository.get_recipient(session, me)
    kinds = catalogue()
    effective = EffectiveOut(
        language=prefs.language or (recipient.language if recipient else None),
        time_zone=prefs.zone_name,
        quiet_hours=describe(prefs.quiet),
        digest_hour=_digest(prefs.digest),
        channels={kind: prefs.channels_for(kind) for kind in kinds},
        required_kinds=sorted(prefs.policy.required),
        policy_org=prefs.policy.source,
    )
    return PreferencesOut(
        recipient_id=me,
        home_org=home_org,
        language=prefs.language,
        time_zone=prefs.time_zone,
        quiet_hours=stored.quiet_hours if stored else None,
        digest_hour=None if prefs.digest_hour is None else _digest(prefs.digest_hour),
        channels=dict(prefs.own_channels),
        effective=effective,
    )


@router.get("/preferences/me", response_model=PreferencesOut, summary="Your preferences")
async def get_mine(who: CurrentPrincipal, ctx: Ctx, db: Db) -> PreferencesOut:
    async with db.reading() as session:
        return await _mine(session, ctx, who)


@router.put("/preferences/me", response_model=PreferencesOut, summary="Replace your preferences")
async def put_mine(body: PreferencesIn, who: CurrentPrincipal, ctx: Ctx, db: Db) -> PreferencesOut:
    me = recipient_of(who)
    async with db.transaction() as session:
        await save_member_preferences(session, ctx, me, body.model_dump())
    async with db.reading() as session:
        return await _mine(session, ctx, who)


@router.get("/preferences/kinds", response_model=KindsOut, summary="The kinds of notices")
async def kinds(who: CurrentPrincipal, ctx: Ctx, db: Db) -> KindsOut:
    me = recipient_of(who)
    async with db.reading() as session:
        prefs: Preferences = await preferences_of(
            session, ctx, me, await home_org_of(session, me, who.org)
        )
    return KindsOut(
        kinds=[
            KindOut(
                kind=kind,
                priority=priority,
                required=kind in prefs.policy.required,
                channels=prefs.channels_for(kind),
            )
            for kind, priority in catalogue().items()
        ]
    )


# -- org policies ---------------------------------------------------------------------------
async def _managed(session: AsyncSession, ctx: Context, who: Principal, org: str) -> None:
    """A cadre or admin of `org`, or an admin of the node; 404 for an org not known here."""
    node_admin = who.has(Role.admin) and who.org == ctx.settings.root_org
    if not node_admin and not (who.org == org and who.has(Role.cadre, Role.admin)):
        raise Forbidden(f"only a cadre of {org} or an admin of the node manages its policy")
    if await ctx.orgs.get(org, session) is None:
        raise NotFound(f"org {org} is not known here")


def _policy_out(org: str, policy: Policy) -> PolicyOut:
    return PolicyOut(
        org=org,
        source=policy.source,
        time_zone=policy.time_zone,
        quiet_hours=describe(policy.quiet_hours),
        digest_hour=_digest(policy.digest_hour),
        channels={kind: list(policy.channels_for(kind)) for kind in catalogue()},
        required_kinds=sorted(policy.required),
    )


POLICY = "/orgs/{org}/notification-policy"


@router.get(POLICY, response_model=PolicyOut, summary="An org's policy in force")
async def get_policy(org: OrgId, who: CurrentPrincipal, ctx: Ctx, db: Db) -> PolicyOut:
    async with db.reading() as session:
        await _managed(session, ctx, who, org)
        return _policy_out(org, await effective_policy(session, ctx, org))


@router.put(POLICY, response_model=PolicyOut, summary="Replace an org's own policy")
async def put_policy(
    org: OrgId, body: PolicyIn, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> PolicyOut:
    async with db.transaction() as session:
        await _managed(session, ctx, who, org)
        await save_org_policy(session, ctx, org, body.model_dump())
    async with db.reading() as session:
        return _policy_out(org, await effective_policy(session, ctx, org))


@router.delete(POLICY, status_code=204, summary="Drop an org's own policy (inherit again)")
async def delete_policy(org: OrgId, who: CurrentPrincipal, ctx: Ctx, db: Db) -> Response:
    async with db.transaction() as session:
        await _managed(session, ctx, who, org)
        await store.delete_org_policy(session, org)
    return Response(status_code=204)
