"""Prometheus metrics shared by every service (served at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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

# -- what operations watch (deploy/observability has the dashboard and the alert rules) -----
# Gauges say how several worker processes (BIGSCHOOL_HTTP_WORKERS) add up on /metrics.
HTTP_REQUESTS = Counter(
    "bigschool_http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "bigschool_http_request_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CONSUMER_LAG = Gauge(
    "bigschool_consumer_lag",
    "Messages not yet handled and committed (high watermark minus the committed offset), "
    "by group and partition.",
    ["group", "topic", "partition"],
    multiprocess_mode="livemax",
)
OUTBOX_BACKLOG = Gauge(
    "bigschool_outbox_backlog",
    "Outbox rows not published yet.",
    multiprocess_mode="livemax",
)
OUTBOX_OLDEST_AGE = Gauge(
    "bigschool_outbox_oldest_age_seconds",
    "Age of the oldest outbox row not published yet (0 when there is none).",
    multiprocess_mode="livemax",
)
RELAY_LEASE = Gauge(
    "bigschool_outbox_relay_lease",
    "1 in the process whose outbox relay holds the lease of its database.",
    multiprocess_mode="livesum",
)
DLQ_MESSAGES = Counter(
    "bigschool_dlq_messages_total", "Messages produced to a dead-letter topic.", ["topic"]
)
READY = Gauge(
    "bigschool_ready",
    "1 when the readiness check passes (as /readyz would answer), by check.",
    ["check"],
    multiprocess_mode="livemin",
)
