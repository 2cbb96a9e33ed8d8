from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from notifications.domain.deliveries import (
    AttemptOutcome,
    Channel,
    Status,
    backoff,
    delivery_id,
    message_id,
    settle,
)

NOW = datetime(2025, 3, 1, tzinfo=UTC)


def test_the_same_event_member_and_channel_always_give_the_same_delivery_id() -> None:
    ce_id, member = str(uuid.uuid4()), str(uuid.uuid4())
    assert delivery_id(ce_id, member, Channel.email) == delivery_id(ce_id, member, Channel.email)
    assert delivery_id(ce_id, member, Channel.email) != delivery_id(ce_id, member, Channel.inapp)
    assert delivery_id(ce_id, member, Channel.email) != delivery_id(
        str(uuid.uuid4()), member, Channel.email
    )


def test_the_message_id_names_the_delivery_and_the_node() -> None:
    assert message_id("abc", "zj") == "<abc@bigschool.zj>"


def test_backoff_ceiling_doubles_from_one_second_and_stops_at_five_minutes() -> None:
    longest = [backoff(n, rand=lambda: 0.999999).total_seconds() for n in range(1, 12)]
    assert [round(w) for w in longest[:5]] == [1, 2, 4, 8, 16]
    assert round(max(longest)) == 300 and round(longest[-1]) == 300
    assert backoff(10_000, rand=lambda: 0.999999) <= timedelta(minutes=5)


def test_backoff_waits_at_least_half_its_step_and_at_most_the_step() -> None:
    for attempt, step in [(1, 1), (3, 4), (9, 256), (10, 300), (10_000, 300)]:
        assert backoff(attempt, rand=lambda: 0.0) == timedelta(seconds=step / 2)
        for _ in range(50):
            assert timedelta(seconds=step / 2) <= backoff(attempt) <= timedelta(seconds=step)


def test_backoff_jitter_spreads_retries_of_failures_that_happened_together() -> None:
    waits = {backoff(6) for _ in range(50)}
    assert len(waits) > 10


def test_a_failure_before_the_last_attempt_is_retried_after_the_backoff() -> None:
    step = settle(AttemptOutcome.deferred, attempt=3, max_attempts=8, now=NOW, rand=lambda: 0.5)
    assert (step.status, step.outcome) == (Status.pending, AttemptOutcome.deferred)
    assert step.next_attempt_at == NOW + timedelta(seconds=3)
    jittered = settle(AttemptOutcome.deferred, attempt=3, max_attempts=8, now=NOW)
    assert NOW + timedelta(seconds=2) <= jittered.next_attempt_at <= NOW + timedelta(seconds=4)


def test_a_failure_on_the_last_attempt_fails_the_delivery() -> None:
    step = settle(AttemptOutcome.deferred, attempt=8, max_attempts=8, now=NOW)
    assert (step.status, step.outcome) == (Status.failed, AttemptOutcome.failed)


def test_a_permanent_failure_fails_the_delivery_at_once() -> None:
    step = settle(AttemptOutcome.deferred, attempt=1, max_attempts=8, now=NOW, permanent=True)
    assert step.status is Status.failed


def test_sent_and_skipped_attempts_finish_the_delivery() -> None:
    assert settle(AttemptOutcome.sent, attempt=1, max_attempts=8, now=NOW).status is Status.sent
    skipped = settle(AttemptOutcome.skipped, attempt=1, max_attempts=8, now=NOW)
    assert skipped.status is Status.skipped
