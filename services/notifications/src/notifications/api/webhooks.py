"""Webhook subscriptions for integrators: managed by the node's admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from notifications.api.deps import Ctx, Db
from notifications.errors import Forbidden
from notifications.webhooks import admin, repository
from notifications.webhooks.domain import WebhookStatus
from notifications.webhooks.schemas import (
    DeliveryPage,
    ReplayIn,
    ReplayOut,
    SecretOut,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPage,
    SubscriptionPatch,
    WebhookAttemptOut,
    WebhookDeliveryOut,
)
from shared.auth import Principal, Role
from shared.auth.dependencies import CurrentPrincipal
from shared.web.cursor import encode_position
from shared.web.deps import AfterPosition, PageLimit
from shared.web.fields import Id

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


async def node_admin(who: CurrentPrincipal, ctx: Ctx) -> Principal:
    """An admin of the node: Role.admin of its root org."""
    if not (who.has(Role.admin) and who.org == ctx.settings.root_org):
        raise Forbidden("webhooks are managed by the node's admins")
    return who


Admin = Annotated[Principal, Depends(node_admin)]


@router.post(
    "", status_code=201, response_model=SubscriptionCreated, summary="Subscribe an endpoint"
)
async def create_webhook(spec: SubscriptionIn, who: Admin, ctx: Ctx, db: Db) -> SubscriptionCreated:
    await admin.check_webhook_url(ctx, spec.url)
    async with db.transaction() as session:
        sub = await admin.create(session, ctx, who, spec)
    return SubscriptionCreated.model_validate(sub)


@router.get("", response_model=SubscriptionPage, summary="The node's webhooks, newest first")
async def list_webhooks(
    _: Admin, db: Db, after: AfterPosition = None, limit: PageLimit = 50
) -> SubscriptionPage:
    async with db.reading() as session:
        rows = await repository.subscription_page(session, after=after, limit=limit + 1)
    items = [SubscriptionOut.model_validate(s) for s in rows[:limit]]
    last = items[-1] if len(rows) > limit else None
    cursor = encode_position(last.created_at, last.subscription_id) if last else None
    return SubscriptionPage(items=items, next_cursor=cursor)


@router.get("/{subscription_id}", response_model=SubscriptionOut, summary="One webhook")
async def get_webhook(subscription_id: Id, _: Admin, db: Db) -> SubscriptionOut:
    async with db.reading() as session:
        return SubscriptionOut.model_validate(await admin.subscription(session, subscription_id))


@router.patch("/{subscription_id}", response_model=SubscriptionOut, summary="Change a webhook")
async def patch_webhook(
    subscription_id: Id, patch: SubscriptionPatch, _: Admin, ctx: Ctx, db: Db
) -> SubscriptionOut:
    if patch.url is not None:
        await admin.check_webhook_url(ctx, patch.url)
    async with db.transaction() as session:
        sub = await admin.change(session, ctx, subscription_id, patch)
    return SubscriptionOut.model_validate(sub)


@router.delete("/{subscription_id}", status_code=204, summary="Delete a webhook and its log")
async def delete_webhook(subscription_id: Id, _: Admin, db: Db) -> Response:
    async with db.transaction() as session:
        await admin.subscription(session, subscription_id)
        await repository.delete_subscription(session, subscription_id)
    return Response(status_code=204)


@router.post(
    "/{subscription_id}/rotate-secret",
    response_model=SecretOut,
    summary="A new signing secret; the old one keeps signing for the overlap",
)
async def rotate_secret(subscription_id: Id, _: Admin, ctx: Ctx, db: Db) -> SecretOut:
    async with db.transaction() as session:
        sub, secret = await admin.rotate_secret(session, ctx, subscription_id)
    return SecretOut(
        subscription_id=sub.subscription_id,
        secret=secret,
        previous_secret_until=sub.previous_secret_until,
    )


@router.post("/{subscription_id}/enable", response_model=SubscriptionOut, summary="Enable again")
async def enable_webhook(subscription_id: Id, _: Admin, ctx: Ctx, db: Db) -> SubscriptionOut:
    async with db.transaction() as session:
        sub = await admin.enable(session, ctx, subscription_id)
    return SubscriptionOut.model_validate(sub)


@router.get(
    "/{subscription_id}/deliveries",
    response_model=DeliveryPage,
    summary="The delivery log, newest first, each with its attempts (never the body)",
)
async def list_deliveries(
    subscription_id: Id,
    _: Admin,
    db: Db,
    status: Annotated[WebhookStatus | None, Query()] = None,
    after: AfterPosition = None,
    limit: PageLimit = 50,
) -> DeliveryPage:
    async with db.reading() as session:
        await admin.subscription(session, subscription_id)
        rows = await repository.delivery_page(
            session,
            subscription_id,
            status=status.value if status else None,
            after=after,
            limit=limit + 1,
        )
        page = rows[:limit]
        logs = await repository.attempts_of(session, [d.delivery_id for d in page])
    items = []
    for row in page:
        item = WebhookDeliveryOut.model_validate(row)
        item.log = [WebhookAttemptOut.model_validate(a) for a in logs[row.delivery_id]]
        items.append(item)
    last = items[-1] if len(rows) > limit else None
    cursor = encode_position(last.created_at, last.delivery_id) if last else None
    return DeliveryPage(items=items, next_cursor=cursor)


@router.post(
    "/{subscription_id}/replay",
    response_model=ReplayOut,
    summary="Send the deliveries of a time range again, with the same webhook-ids",
)
async def replay(subscription_id: Id, span: ReplayIn, _: Admin, ctx: Ctx, db: Db) -> ReplayOut:
    async with db.transaction() as session:
        requeued = await admin.replay(session, ctx, subscription_id, span)
    return ReplayOut(requeued=requeued)
