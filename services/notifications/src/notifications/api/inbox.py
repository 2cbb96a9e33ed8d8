from __future__ import annotations

from fastapi import APIRouter

from notifications import repository
from notifications.api.deps import Ctx, Db
from notifications.schemas import InboxItemOut, InboxPage, ReadAllOut, UnreadOut
from notifications.service.inbox import mark_all_read, mark_read, recipient_of
from shared.auth import Principal
from shared.auth.dependencies import CurrentPrincipal
from shared.web.cursor import decode_position, encode_position
from shared.web.deps import PageCursor, PageLimit
from shared.web.fields import Id

router = APIRouter(prefix="/inbox", tags=["inbox"])


def member_of(who: Principal) -> str:
    """The inbox is the caller's own: a member's, or a staff account's (cadres, reviewers and
    admins read their "needs action" notices the same way)."""
    return recipient_of(who)


@router.get("", response_model=InboxPage, summary="The caller's inbox, newest first")
async def list_inbox(
    who: CurrentPrincipal,
    db: Db,
    cursor: PageCursor = None,
    limit: PageLimit = 50,
) -> InboxPage:
    member_id = member_of(who)
    before = decode_position(cursor) if cursor else None
    async with db.reading() as session:
        rows = await repository.inbox_page(session, member_id, before=before, limit=limit + 1)
        unread = await repository.unread_count(session, member_id)
    items = [InboxItemOut.model_validate(i) for i in rows[:limit]]
    last = items[-1] if items and len(rows) > limit else None
    return InboxPage(
        items=items,
        next_cursor=encode_position(last.created_at, last.item_id) if last else None,
        unread=unread,
    )


@router.get("/unread", response_model=UnreadOut, summary="How many of your items are unread")
async def unread(who: CurrentPrincipal, db: Db) -> UnreadOut:
    member_id = member_of(who)
    async with db.reading() as session:
        return UnreadOut(unread=await repository.unread_count(session, member_id))


@router.post("/read-all", response_model=ReadAllOut, summary="Mark all your items read")
async def read_all(who: CurrentPrincipal, ctx: Ctx, db: Db) -> ReadAllOut:
    member_id = member_of(who)
    async with db.transaction() as session:
        marked = await mark_all_read(session, ctx, member_id)
    return ReadAllOut(marked=marked)


@router.post("/{item_id}/read", response_model=InboxItemOut, summary="Mark one of your items read")
async def read_item(item_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db) -> InboxItemOut:
    member_id = member_of(who)
    async with db.transaction() as session:
        item = await mark_read(session, ctx, member_id, item_id)
    return InboxItemOut.model_validate(item)
