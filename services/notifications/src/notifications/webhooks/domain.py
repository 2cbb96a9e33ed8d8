"""What a webhook subscription and delivery are, in plain Python: event-type patterns, ids,
secrets, the signing header set and how long to wait after a failure."""

from __future__ import annotations

import base64
import random
import re
import secrets
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from standardwebhooks import Webhook

# Fixed forever: webhook-ids (what integrators de-duplicate on) are derived from it.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:bigschool:notifications:webhook")

# What the admin who created a subscription is told when it is disabled (templates.py).
WEBHOOK_DISABLED = "bigschool.notifications.webhook_disabled.v1"

_JITTER = random.Random()

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # HMAC-SHA256 key size; the spec allows 24 to 64 bytes

# An exact type (`bigschool.enrollment.confirmed.v1`) or a prefix pattern ending in `.*`
# (`bigschool.enrollment.*`); `*` alone is every type.
_TYPE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
_PREFIX = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*\.\*$")


class SubscriptionStatus(StrEnum):
    active = "active"
    disabled = "disabled"


class WebhookStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


def webhook_id(ce_id: str, subscription_id: str) -> str:
    """The delivery's id and its `webhook-id`: the same on every redelivery and replay."""
    return str(uuid.uuid5(NAMESPACE, f"{ce_id}:{subscription_id}"))


def new_secret() -> str:
    """A fresh signing secret in Standard Webhooks form: `whsec_` + base64 of random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def is_pattern(value: str) -> bool:
    return value == "*" or bool(_TYPE.fullmatch(value) or _PREFIX.fullmatch(value))


def matches(pattern: str, event_type: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])  # keeps the dot: `a.*` is not `ab.x`
    return pattern == event_type


def matches_any(patterns: Iterable[str], event_type: str) -> bool:
    return any(matches(p, event_type) for p in patterns)


def signature_headers(
    secrets_in_use: Sequence[str], msg_id: str, at: datetime, body: str
) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt. During a rotation's overlap there are two
    secrets: one signature each, space-separated, so a receiver holding either verifies."""
    signatures = [Webhook(secret).sign(msg_id, at, body) for secret in secrets_in_use]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def retry_delay(
    since_queued: timedelta, *, base: float, cap: float, rng: random.Random | None = None
) -> timedelta:
    """Wait after a failed attempt: as long as the delivery has already waited since it was
    queued (so the waits double: base, base, 2 base, 4 base …), at least `base`, at most
    `cap`, with jitter (half to all of it) so that a receiver coming back is not hit by every
    retry in the same instant. Counting from the queueing, a replay starts afresh."""
    delay = min(max(base, since_queued.total_seconds()), cap)
    return timedelta(seconds=delay * (rng or _JITTER).uniform(0.5, 1.0))
