"""The delivery log for support staff: a failed delivery retried by hand."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import repository
from notifications.domain.deliveries import AttemptOutcome, Status
from notifications.errors import Conflict
from notifications.models import Delivery
from notifications.service.context import Context


async def retry_failed(session: AsyncSession, ctx: Context, delivery: Delivery) -> None:
    """Make a `failed` delivery (locked by the caller) pending and due now. Its log is kept and
    the retry is a line of it (outcome `retried`, which takes the next attempt number); the
    dispatcher then makes one more attempt — failing again, it is `failed` again. Anything but
    a failed delivery is a 409: a pending one is on its way, a sent one must not go twice."""
    if delivery.status != Status.failed.value:
        raise Conflict(
            f"delivery {delivery.delivery_id} is {delivery.status}; only a failed one is retried"
        )
    now = ctx.clock.now()
    attempt = delivery.attempts + 1
    await repository.log_attempt(
        session,
        {
            "delivery_id": delivery.delivery_id,
            "attempt": attempt,
            "at": now,
            "outcome": AttemptOutcome.retried.value,
            "error_type": None,
        },
    )
    delivery.status = Status.pending.value
    delivery.attempts = attempt
    delivery.next_attempt_at = now
