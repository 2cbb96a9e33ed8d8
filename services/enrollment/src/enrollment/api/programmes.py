from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from enrollment import repository
from enrollment.api.deps import Ctx, Db
from enrollment.errors import Forbidden, NotFound
from enrollment.schemas import ProgrammeIn, ProgrammeKind, ProgrammeOut, ProgrammePage
from enrollment.service.programmes import publish_programme
from shared.auth import Role
from shared.auth.dependencies import CurrentPrincipal
from shared.contracts.events import QualityArea
from shared.web.cursor import encode_key
from shared.web.deps import AfterKey, PageLimit
from shared.web.fields import Id, OrgId, UtcInstant

router = APIRouter(prefix="/programmes", tags=["programmes"])


@router.post("", status_code=201, response_model=ProgrammeOut, summary="Publish a programme")
async def create_programme(
    body: ProgrammeIn, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> ProgrammeOut:
    if who.org != body.owner_org or not who.has(Role.cadre, Role.admin):
        raise Forbidden("only the owner org's cadres publish its programmes")
    async with db.transaction() as session:
        programme = await publish_programme(session, ctx, body)
    return ProgrammeOut.model_validate(programme)


@router.get(
    "",
    response_model=ProgrammePage,
    summary="Programmes known at this node",
    description="In programme id order (keyset pages). Filters: `quality_area`, `kind`, "
    "`owner_org`, `starts_from` (an instant with its offset: programmes starting then or "
    "later) and `q` (words of the title, case-insensitive); a page may be short while "
    "`next_cursor` says more follow.",
)
async def list_programmes(
    _who: CurrentPrincipal,
    db: Db,
    after: AfterKey,
    limit: PageLimit = 50,
    quality_area: Annotated[QualityArea | None, Query()] = None,
    kind: Annotated[ProgrammeKind | None, Query()] = None,
    owner_org: Annotated[OrgId | None, Query()] = None,
    starts_from: Annotated[UtcInstant | None, Query(examples=["2026-03-01T00:00:00+08:00"])] = None,
    q: Annotated[str | None, Query(max_length=100, description="Words of the title.")] = None,
) -> ProgrammePage:
    filters = repository.ProgrammeFilters(
        quality_area=quality_area.value if quality_area else None,
        kind=kind,
        owner_org=owner_org,
        starts_from=starts_from,
        title_words=(q or "").split(),
    )
    async with db.reading() as session:
        rows = await repository.list_programmes(
            session, after=after, limit=limit + 1, filters=filters
        )
    items = [ProgrammeOut.model_validate(p) for p in rows[:limit]]
    return ProgrammePage(
        items=items, next_cursor=encode_key(items[-1].programme_id) if len(rows) > limit else None
    )


@router.get("/{programme_id}", response_model=ProgrammeOut, summary="One programme")
async def get_programme(programme_id: Id, _who: CurrentPrincipal, db: Db) -> ProgrammeOut:
    async with db.reading() as session:
        programme = await repository.get_programme(session, programme_id)
    if programme is None:
        raise NotFound(f"programme {programme_id} not found")
    return ProgrammeOut.model_validate(programme)
