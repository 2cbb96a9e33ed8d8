"""The delivery log: an org's deliveries for its support staff, a member's own, and the retry
of a failed one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import repository
from notifications.api.deps import Ctx, Db
from notifications.domain.deliveries import Channel, Status
from notifications.errors import Forbidden, NotFound
from notifications.models import Delivery, DeliveryAttempt
from notifications.schemas import AttemptOut, DeliveryOut, DeliveryPage
from notifications.service.delivery_log import retry_failed
from notifications.service.inbox import recipient_of
from shared.auth import Principal, Role
from shared.auth.dependencies import CurrentPrincipal
from shared.web.cursor import encode_position
from shared.web.deps import AfterPosition, PageLimit
from shared.web.fields import ORG_ID_PATTERN, Id

router = APIRouter(prefix="/deliveries", tags=["deliveries"])


def supports(who: Principal, org: str | None, root_org: str) -> bool:
    """Support staff: a cadre (or admin) of the recipient's home org, or an admin of the node."""
    if who.has(Role.admin) and who.org == root_org:
        return True
    return org is not None and who.org == org and who.has(Role.cadre, Role.admin)


async def home_org_of(session: AsyncSession, delivery: Delivery) -> str | None:
    # The org recorded when it was planned (the org listing's too); for older rows the member
    # record, and until that arrives the org the event names.
    if delivery.home_org is not None:
        return delivery.home_org
    recipient = await repository.get_recipient(session, delivery.member_id)
    if recipient is not None:
        return recipient.home_org
    org = delivery.data.get("home_org")
    return org if isinstance(org, str) else None


def with_log(delivery: Delivery, attempts: Sequence[DeliveryAttempt]) -> DeliveryOut:
    out = DeliveryOut.model_validate(delivery)
    out.log = [AttemptOut.model_validate(a) for a in attempts]
    return out


async def page_of(session: AsyncSession, rows: list[Delivery], limit: int) -> DeliveryPage:
    """`rows` holds up to `limit + 1` rows: one more means there is a next page."""
    shown = rows[:limit]
    logs = await repository.attempts_by_delivery(session, [d.delivery_id for d in shown])
    last = shown[-1] if shown and len(rows) > limit else None
    return DeliveryPage(
        items=[with_log(d, logs[d.delivery_id]) for d in shown],
        next_cursor=encode_position(last.created_at, last.delivery_id) if last else None,
    )


@router.get("", response_model=DeliveryPage, summary="An org's delivery log, newest first")
async def list_deliveries(
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    after: AfterPosition,
    org: Annotated[
        str | None,
        Query(
            pattern=ORG_ID_PATTERN,
            description="The recipients' home org (default: the caller's). Its cadres and "
            "admins, and the node's admins, may read it.",
        ),
    ] = None,
    status: Annotated[Status | None, Query(description="e.g. `failed`")] = None,
    channel: Channel | None = None,
    limit: PageLimit = 50,
) -> DeliveryPage:
    org = org or who.org
    if not supports(who, org, ctx.settings.root_org):
        raise Forbidden(f"only support staff of {org} read its delivery log")
    async with db.reading() as session:
        rows = await repository.deliveries_page(
            session,
            org=org,
            status=status.value if status else None,
            channel=channel.value if channel else None,
            before=after,
            limit=limit + 1,
        )
        return await page_of(session, rows, limit)


@router.get("/mine", response_model=DeliveryPage, summary="Your own deliveries, newest first")
async def my_deliveries(
    who: CurrentPrincipal,
    db: Db,
    after: AfterPosition,
    status: Status | None = None,
    channel: Channel | None = None,
    limit: PageLimit = 50,
) -> DeliveryPage:
    recipient = recipient_of(who)
    async with db.reading() as session:
        rows = await repository.deliveries_page(
            session,
            member_id=recipient,
            status=status.value if status else None,
            channel=channel.value if channel else None,
            before=after,
            limit=limit + 1,
        )
        return await page_of(session, rows, limit)


@router.get("/{delivery_id}", response_model=DeliveryOut, summary="A delivery with its attempt log")
async def get_delivery(delivery_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db) -> DeliveryOut:
    async with db.reading() as session:
        delivery = await repository.get_delivery(session, delivery_id)
        if delivery is None or not supports(
            who, await home_org_of(session, delivery), ctx.settings.root_org
        ):
            raise NotFound(f"delivery {delivery_id} not found")
        attempts = await repository.attempts_of(session, delivery_id)
    return with_log(delivery, attempts)


@router.post(
    "/{delivery_id}/retry", response_model=DeliveryOut, summary="Send a failed delivery again"
)
async def retry_delivery(delivery_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db) -> DeliveryOut:
    """Support staff of the recipient's home org (or the node's admins): the failed delivery
    becomes pending, due now, with the retry noted in its log. 409 if it is not failed."""
    async with db.transaction() as session:
        delivery = await repository.lock_delivery(session, delivery_id)
        if delivery is None or not supports(
            who, await home_org_of(session, delivery), ctx.settings.root_org
        ):
            raise NotFound(f"delivery {delivery_id} not found")
        await retry_failed(session, ctx, delivery)
        await session.flush()
        attempts = await repository.attempts_of(session, delivery_id)
    return with_log(delivery, attempts)
