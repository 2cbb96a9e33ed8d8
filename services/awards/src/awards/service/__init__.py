"""Use cases: repository → domain → outbox, inside the caller's transaction (never commit)."""
