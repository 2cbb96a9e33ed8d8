"""Code every Big School service shares: event contracts, outbox, consumers, auth, settings."""
