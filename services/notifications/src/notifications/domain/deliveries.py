"""What a delivery is: its deterministic id, its states, and how long to wait after a failure."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

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
    # Held for the member's daily digest (the dispatcher claims only `pending`), then
    # `digested`: told in the digest e-mail (service/digest.py).
    digest = "digest"
    digested = "digested"


class AttemptOutcome(StrEnum):
    """What one attempt in the delivery log came to."""

    sent = "sent"
    skipped = "skipped"
    deferred = "deferred"  # retried later with backoff
    failed = "failed"  # gave up: the delivery is `failed`
    retried = "retried"  # not a send: support staff made a failed delivery pending again


def delivery_id(ce_id: str, member_id: str, channel: Channel) -> str:
    """Same event, recipient and channel → same id, on every redelivery and every replica."""
    return str(uuid.uuid5(NAMESPACE, f"{ce_id}:{member_id}:{channel.value}"))


def new_delivery(
    *,
    ce_id: str,
    event_type: str,
    member_id: str,
    channel: Channel,
    data: dict[str, Any],
    home_org: str | None,
    now: datetime,
    status: Status = Status.pending,
    due: datetime | None = None,
    traceparent: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The row of a delivery not attempted yet, due at `due` (default: now), in the trace
    `traceparent` names; `extra` for the columns some deliveries set (lane, fallback_of)."""
    return {
        "delivery_id": delivery_id(ce_id, member_id, channel),
        "ce_id": ce_id,
        "event_type": event_type,
        "member_id": member_id,
        "channel": channel.value,
        "data": data,
        "status": status.value,
        "attempts": 0,
        "next_attempt_at": due or now,
        "last_error": None,
        "created_at": now,
        "sent_at": None,
        "home_org": home_org,  # whose cadres read this delivery's log and may retry it
        "traceparent": traceparent,
        **extra,
    }


def backoff(attempts: int, *, rand: Callable[[], float] = random.random) -> timedelta:
    """Wait after the `attempts`-th failed attempt: the ceiling doubles from 1 s (1, 2, 4 …,
    capped at five minutes) and the wait is drawn between half the ceiling and the ceiling
    ("equal jitter"): deliveries that failed together (SMTP down) do not all come back in
    the same instant, yet none is retried sooner than half its step. `rand` gives [0, 1)."""
    exponent = max(attempts - 1, 0)
    # 2**16 s is far beyond the cap: skip the big number.
    ceiling = BACKOFF_CAP if exponent >= 16 else min(timedelta(seconds=2**exponent), BACKOFF_CAP)
    return ceiling / 2 + ceiling / 2 * min(max(rand(), 0.0), 1.0)


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
    rand: Callable[[], float] = random.random,
) -> Transition:
    """`outcome` is what the attempt achieved: sent, skipped, or deferred (it failed).

    A failure is retried after `backoff(attempt)` (jittered by `rand`) until `max_attempts`
    is reached, or given up at once when it is `permanent` (the server refused the address
    for good)."""
    if outcome is AttemptOutcome.sent:
        return Transition(Status.sent, outcome, now)
    if outcome is AttemptOutcome.skipped:
        return Transition(Status.skipped, outcome, now)
    if permanent or attempt >= max_attempts:
        return Transition(Status.failed, AttemptOutcome.failed, now)
    return Transition(Status.pending, AttemptOutcome.deferred, now + backoff(attempt, rand=rand))
