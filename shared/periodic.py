"""Clock-driven background work of a service (offer expiry, roll-up publishing, …)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def run_periodically(
    once: Callable[[], Awaitable[int]], every_seconds: float, what: str
) -> None:
    """Call `once` every `every_seconds`, for ever. A run that did something is logged with
    its count; a failure (the database is away) is logged by its type only and tried again
    at the next run."""
    while True:
        try:
            done = await once()
            if done:
                log.info("%s: %d", what, done)
        except Exception as exc:
            log.warning("%s failed: %s", what, type(exc).__name__)
        await asyncio.sleep(every_seconds)
