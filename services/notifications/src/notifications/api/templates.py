"""Per-org template overrides: an org's cadres (and the node's admins) read the templates
their members get, reword one (validated before it is saved) or go back to the default."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.api.deliveries import supports
from notifications.api.deps import Ctx, Db
from notifications.errors import Forbidden, NotFound
from notifications.schemas import TemplateIn, TemplateList, TemplateOut
from notifications.service import template_overrides
from notifications.service.context import Context
from notifications.service.template_overrides import Effective
from shared.auth import Principal
from shared.auth.dependencies import CurrentPrincipal
from shared.web.fields import OrgId

router = APIRouter(prefix="/orgs/{org}/templates", tags=["templates"])

TemplateKey = Annotated[
    str,
    Path(
        max_length=200,
        description="An event type, or `<event type>:<variant>` for one whose message depends "
        "on a value of the event (e.g. `bigschool.awards.honour_granted.v1:award`).",
    ),
]
Language = Annotated[str, Path(description="`zh` or `en`.")]


async def _may_manage(session: AsyncSession, ctx: Context, who: Principal, org: str) -> None:
    """The org's cadres and admins, or the node's admins; 404 for an org this node does not
    know (after the role check: nobody learns which orgs exist from a 403/404 difference)."""
    if not supports(who, org, ctx.settings.root_org):
        raise Forbidden(f"only cadres of {org} manage its templates")
    if await ctx.orgs.get(org, session) is None:
        raise NotFound(f"org {org} not found")


def _forget_cached(request: Request) -> None:
    """This node's dispatcher uses the change for its next message (other replicas within
    `template_cache_seconds`)."""
    dispatcher = getattr(request.app.state, "dispatcher", None)
    if dispatcher is not None:
        dispatcher.templates.forget()


def _out(effective: Effective) -> TemplateOut:
    t = effective.template
    return TemplateOut(
        template_key=effective.template_key,
        language=effective.language,
        source=effective.source,
        org_id=effective.org_id,
        subject=t.subject,
        title=t.title,
        body=t.body,
    )


@router.get("", response_model=TemplateList, summary="Every template the org's members get")
async def list_templates(org: OrgId, who: CurrentPrincipal, ctx: Ctx, db: Db) -> TemplateList:
    async with db.reading() as session:
        await _may_manage(session, ctx, who, org)
        rows = await template_overrides.all_effective(session, ctx, org)
    return TemplateList(items=[_out(e) for e in rows])


@router.get(
    "/{event_type}/{language}",
    response_model=TemplateOut,
    summary="The template the org's members get: its override, an ancestor's, or the default",
)
async def get_template(
    org: OrgId, event_type: TemplateKey, language: Language, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> TemplateOut:
    async with db.reading() as session:
        await _may_manage(session, ctx, who, org)
        found = await template_overrides.effective(session, ctx, org, event_type, language)
    return _out(found)


@router.put(
    "/{event_type}/{language}",
    response_model=TemplateOut,
    summary="Reword a template for the org and its sub-orgs (checked before it is saved)",
    responses={422: {"description": "Unknown template or language, or a bad placeholder."}},
)
async def put_template(
    org: OrgId,
    event_type: TemplateKey,
    language: Language,
    body: TemplateIn,
    request: Request,
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
) -> TemplateOut:
    async with db.transaction() as session:
        await _may_manage(session, ctx, who, org)
        saved = await template_overrides.save(
            session, ctx, org, event_type, language, body.model_dump(), by=who.sub
        )
    _forget_cached(request)
    return _out(saved)


@router.delete(
    "/{event_type}/{language}",
    status_code=204,
    summary="Drop the org's override: its members get the inherited or default template",
)
async def delete_template(
    org: OrgId,
    event_type: TemplateKey,
    language: Language,
    request: Request,
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
) -> Response:
    async with db.transaction() as session:
        await _may_manage(session, ctx, who, org)
        await template_overrides.remove(session, ctx, org, event_type, language)
    _forget_cached(request)
    return Response(status_code=204)
