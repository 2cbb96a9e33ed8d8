"""A public notice's fan-out progress, for the owner org's cadres and the node's admin."""

from __future__ import annotations

from fastapi import APIRouter

from notifications.api.deliveries import supports
from notifications.api.deps import Ctx, Db
from notifications.errors import NotFound
from notifications.schemas import FanoutOut
from notifications.service.fanout import fanout_progress
from shared.auth.dependencies import CurrentPrincipal
from shared.web.fields import Id

router = APIRouter(prefix="/notices", tags=["notices"])


@router.get(
    "/{notice_id}/fanout",
    response_model=FanoutOut,
    summary="How far telling this node's members of a public notice has come",
)
async def get_fanout(notice_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db) -> FanoutOut:
    """404 for a notice this node was not sent, and for callers who may not see it (neither a
    cadre of the owner org nor an admin of this node)."""
    async with db.reading() as session:
        job = await fanout_progress(session, notice_id)
        if job is None or not supports(who, job.owner_org, ctx.settings.root_org):
            raise NotFound(f"no fan-out of notice {notice_id} here", field="notice_id")
        return FanoutOut.model_validate(job)
