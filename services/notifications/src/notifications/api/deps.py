"""What routes receive: the use-case context and the database of this service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from notifications.service.context import Context
from shared.db import Database


def get_context(request: Request) -> Context:
    return request.app.state.context


def get_db(request: Request) -> Database:
    return request.app.state.runtime.db


Ctx = Annotated[Context, Depends(get_context)]
Db = Annotated[Database, Depends(get_db)]
