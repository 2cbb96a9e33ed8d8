"""Stopping tasks for sure: a cancellation swallowed once (as Python 3.11's
`asyncio.wait_for` may do) is repeated until the task ends."""

from __future__ import annotations

import asyncio

from shared.tasks import cancel_and_wait


async def test_a_task_that_swallowed_its_cancellation_is_cancelled_again() -> None:
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            swallowed += 1  # lost, as in the wait_for race: the loop runs on
        await asyncio.sleep(3600)

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait([task]), timeout=10)
    assert swallowed == 1 and task.cancelled()


async def test_finished_and_failed_tasks_are_waited_for_without_warnings() -> None:
    async def fails() -> None:
        raise RuntimeError("boom")

    done, failed = asyncio.create_task(asyncio.sleep(0)), asyncio.create_task(fails())
    await asyncio.sleep(0.01)
    await cancel_and_wait([done, failed])
    assert done.done() and not done.cancelled()
    assert isinstance(failed.exception(), RuntimeError)
