"""Reliable messaging: the transactional outbox, its relay, idempotent consumers, dead letters."""
