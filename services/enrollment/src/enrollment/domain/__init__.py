"""Enrollment rules, pure Python: no web, database or Kafka imports here."""
