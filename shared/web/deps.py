"""What routes of every service receive besides the caller: its database, its use-case
context, and the paging parameters of list endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request

from shared.db import Database, Position
from shared.web.cursor import decode_key, decode_position

# Dependencies are `async def`: FastAPI runs a plain `def` one in a worker thread, a thread hop
# per dependency per request.


async def get_db(request: Request) -> Database:
    db: Database = request.app.state.runtime.db  # app.state is untyped by design
    return db


async def get_context(request: Request) -> Any:
    """The service's use-case context, put on `app.state.context` by its `create_app`; each
    service types it: ``Ctx = Annotated[Context, Depends(get_context)]``."""
    return request.app.state.context


Db = Annotated[Database, Depends(get_db)]

# A list endpoint takes `after: AfterPosition` or `after: AfterKey` (below) and `limit:
# PageLimit = 50`; the raw `cursor: PageCursor = None` where it decodes the cursor itself.
PageCursor = Annotated[str | None, Query(description="next_cursor of the previous page")]
PageLimit = Annotated[int, Query(ge=1, le=200)]


async def _after_position(cursor: PageCursor = None) -> Position | None:
    return decode_position(cursor) if cursor else None


async def _after_key(cursor: PageCursor = None) -> str | None:
    return decode_key(cursor) if cursor else None


# The `cursor` query parameter, decoded (422 naming `cursor` if it is not one we gave out):
# where the previous page stopped, None for the first page; a list in time order takes
# AfterPosition, one in id order AfterKey. Decoded before the route's body runs: a bad cursor
# is a 422 before any 403 or 404 the route would give.
AfterPosition = Annotated[Position | None, Depends(_after_position)]
AfterKey = Annotated[str | None, Depends(_after_key)]
