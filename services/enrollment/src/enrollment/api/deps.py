"""What routes receive: the use-case context and the database of this service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from enrollment.service.context import Context
from shared.web.deps import Db, get_context

Ctx = Annotated[Context, Depends(get_context)]

__all__ = ["Ctx", "Db"]
