"""Signed webhooks for integrators (Standard Webhooks): subscriptions managed by the node's
admins, one delivery per (event, subscription) planned by the `webhooks` consumer, sent by a
background worker with retries, auto-disable, secret rotation and replays from the log.

`domain` holds the rules (no I/O), `addresses` the SSRF guard, `repository` the SQL,
`planning` the consumer's use case, `admin` the API's use cases and `sender` the worker."""
