"""Prometheus metrics of the notifications service (served at /metrics with the shared ones)."""

from __future__ import annotations

from prometheus_client import Counter

DELIVERY_ATTEMPTS = Counter(
    "bigschool_notification_attempts_total",
    "Delivery attempts, by channel and the delivery's status afterwards.",
    ["channel", "status"],
)
DISPATCH_ERRORS = Counter(
    "bigschool_notification_dispatch_errors_total",
    "Dispatcher rounds cut short by a fault outside a delivery (e.g. the database was down).",
)
