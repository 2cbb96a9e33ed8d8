"""What a delivery is: its deterministic id, its states, and how long to wait after a failure."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# Fixed forever: delivery ids (and so e-mail Message-IDs) are derived from it.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:bigschool:notifications:delivery")

BACKOFF_CAP = timedelta(minutes=5)


class Channel(StrEnum):
    """A member's channels, in the order a failing one falls back to the next."""

    inapp = "inapp"
    sms = "sms"
    email = "email"


class Priority(StrEnum):
    """How urgent a kind of notice is: `critical` passes quiet hours and the digest; `low`
    kinds may wait for the member's daily digest."""

    critical = "critical"
    normal = "normal"
    low = "low"


class Status(StrEnum):
    pending = "pending"
    sent = "sent"
    skipped = "skipped"
    failed = "failed"


class AttemptOutcome(StrEnum):
    """What one attempt in the delivery log came to."""

    sent = "sent"
    skipped = "skipped"
    deferred = "deferred"  # retried later with backoff
    failed = "failed"  # gave up: the delivery is `failed`


def delivery_id(ce_id: str, member_id: str, channel: Channel) -> str:
    """Same event, recipient and channel → same id, on every redelivery and every replica."""
    return str(uuid.uuid5(NAMESPACE, f"{ce_id}:{member_id}:{channel.value}"))


def backoff(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failed attempt: 1 s, 2 s, 4 s … capped at five minutes."""
    exponent = max(attempts - 1, 0)
    if exponent >= 16:  # 2**16 s is far beyond the cap; skip the big number
        return BACKOFF_CAP
    return min(timedelta(seconds=2**exponent), BACKOFF_CAP)


def message_id(delivery: str, node_id: str) -> str:
    """The e-mail `Message-ID`: a resend after a crash is recognisable as the same message."""
    return f"<{delivery}@bigschool.{node_id}>"


@dataclass(frozen=True)
class Transition:
    """Where one attempt leaves a delivery."""

    status: Status
    outcome: AttemptOutcome
    next_attempt_at: datetime


def settle(
    outcome: AttemptOutcome,
    *,
    attempt: int,
    max_attempts: int,
    now: datetime,
    permanent: bool = False,
) -> Transition:
    """`outcome` is what the attempt achieved: sent, skipped, or deferred (it failed).

    A failure is retried after `backoff(attempt)` until `max_attempts` is reached, or given up
    at once when it is `permanent` (the server refused the address for good)."""
    if outcome is AttemptOutcome.sent:
        return Transition(Status.sent, outcome, now)
    if outcome is AttemptOutcome.skipped:
        return Transition(Status.skipped, outcome, now)
    if permanent or attempt >= max_attempts:
        return Transition(Status.failed, AttemptOutcome.failed, now)
    return Transition(Status.pending, AttemptOutcome.deferred, now + backoff(attempt))
