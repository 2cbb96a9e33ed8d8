"""Messages of this area's pages: key → (zh, en)."""

MESSAGES: dict[str, tuple[str, str]] = {}
