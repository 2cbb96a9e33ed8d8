"""Prometheus metrics shared by every service (served at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EVENTS_CONSUMED = Counter(
    "bigschool_events_consumed_total",
    "Messages a consumer finished with, by handler and outcome.",
    ["handler", "outcome"],
)
UNKNOWN_EVENT_TYPES = Counter(
    "bigschool_unknown_event_types_total",
    "Messages skipped because their ce_type is unknown to this service.",
    ["handler", "ce_type"],
)
DEAD_LETTERS = Counter(
    "bigschool_dead_letters_total", "Messages sent to a dead-letter topic.", ["handler", "reason"]
)
TRANSIENT_RETRIES = Counter(
    "bigschool_transient_retries_total",
    "Retries of a message after a transient fault (database or broker down).",
    ["handler"],
)
HELD_MESSAGES = Counter(
    "bigschool_held_messages_total",
    "Times a message was held back (an org or node key not replicated yet), by reason.",
    ["handler", "reason"],
)
OUTBOX_PUBLISHED = Counter("bigschool_outbox_published_total", "Outbox rows published.")
OUTBOX_SEND_FAILURES = Counter("bigschool_outbox_send_failures_total", "Outbox sends that failed.")
HANDLER_SECONDS = Histogram("bigschool_handler_seconds", "Time to handle one message.", ["handler"])
