from __future__ import annotations

from fastapi import APIRouter

from awards.api.deps import Db
from awards.domain.access import scope_for
from awards.errors import NotFound
from awards.schemas import FactOut, FactSummaryOut, KindTotalOut, MemberFactsPage
from awards.service.facts import facts_of_member
from shared.auth.dependencies import CurrentPrincipal
from shared.web.cursor import decode_position, encode_position
from shared.web.deps import PageCursor, PageLimit
from shared.web.fields import Id

router = APIRouter(prefix="/members", tags=["eligibility facts"])


@router.get(
    "/{member_id}/facts",
    response_model=MemberFactsPage,
    summary="A member's eligibility facts, newest first",
    description="For the member themself, or a cadre of the org the facts were recorded at.",
)
async def list_member_facts(
    member_id: Id,
    who: CurrentPrincipal,
    db: Db,
    cursor: PageCursor = None,
    limit: PageLimit = 50,
) -> MemberFactsPage:
    scope = scope_for(who, member_id)
    if scope is None:
        raise NotFound(f"no facts about member {member_id} here")
    after = decode_position(cursor) if cursor else None
    async with db.reading() as session:
        page = await facts_of_member(session, scope, after=after, limit=limit)
    return MemberFactsPage(
        member_id=member_id,
        items=[FactOut.model_validate(f) for f in page.items],
        next_cursor=encode_position(*page.next_after) if page.next_after else None,
        summary=FactSummaryOut(
            total_hours=page.summary.total_hours,
            by_kind={
                kind: KindTotalOut(count=t.count, hours=t.hours)
                for kind, t in page.summary.by_kind.items()
            },
        ),
    )
