from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import repository
from notifications.api.deps import Ctx, Db
from notifications.errors import NotFound
from notifications.models import Delivery
from notifications.schemas import AttemptOut, DeliveryOut
from shared.auth import Principal, Role
from shared.auth.dependencies import CurrentPrincipal
from shared.web.fields import Id

router = APIRouter(prefix="/deliveries", tags=["deliveries"])


def supports(who: Principal, org: str | None, root_org: str) -> bool:
    """Support staff: a cadre (or admin) of the recipient's home org, or an admin of the node."""
    if who.has(Role.admin) and who.org == root_org:
        return True
    return org is not None and who.org == org and who.has(Role.cadre, Role.admin)


async def home_org_of(session: AsyncSession, delivery: Delivery) -> str | None:
    # The member record is the authority; until it arrives, the event names the home org.
    recipient = await repository.get_recipient(session, delivery.member_id)
    if recipient is not None:
        return recipient.home_org
    org = delivery.data.get("home_org")
    return org if isinstance(org, str) else None


@router.get("/{delivery_id}", response_model=DeliveryOut, summary="A delivery with its attempt log")
async def get_delivery(delivery_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db) -> DeliveryOut:
    async with db.reading() as session:
        delivery = await repository.get_delivery(session, delivery_id)
        if delivery is None or not supports(
            who, await home_org_of(session, delivery), ctx.settings.root_org
        ):
            raise NotFound(f"delivery {delivery_id} not found")
        attempts = await repository.attempts_of(session, delivery_id)
    out = DeliveryOut.model_validate(delivery)
    out.log = [AttemptOut.model_validate(a) for a in attempts]
    return out
