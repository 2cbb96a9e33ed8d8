"""The portal's message catalogue, one module per area of pages: key → (zh, en)."""
