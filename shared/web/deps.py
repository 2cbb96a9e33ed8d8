"""What routes of every service receive besides the caller: its database, its use-case
context, and the paging parameters of list endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request

from shared.db import Database

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

# A list endpoint takes `cursor: PageCursor = None, limit: PageLimit = 50`.
PageCursor = Annotated[str | None, Query(description="next_cursor of the previous page")]
PageLimit = Annotated[int, Query(ge=1, le=200)]
