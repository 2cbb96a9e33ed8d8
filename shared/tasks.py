"""Stopping background tasks for sure.

On Python 3.11, `asyncio.wait_for` (used inside aiosmtplib, aiokafka and others) can swallow
a cancellation that lands just as what it waits for completes: the task then runs on, and a
plain `task.cancel(); await task` waits for ever — a service that never stops, a test that
hangs. `cancel_and_wait` cancels again whatever is still running."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

RECANCEL_SECONDS = 0.5


async def cancel_and_wait(tasks: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel `tasks` and return once every one has ended (however: cancelled, failed or
    finished); one still running after RECANCEL_SECONDS is cancelled again."""
    tasks = list(tasks)
    pending = {t for t in tasks if not t.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=RECANCEL_SECONDS)
    for task in tasks:  # their failures are the caller's to log, not asyncio's to warn of
        if not task.cancelled():
            task.exception()
