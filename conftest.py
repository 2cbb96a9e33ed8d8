"""Fixtures every test folder can use: real Kafka, PostgreSQL and SMTP (see tests/fixtures.py)."""

pytest_plugins = ["tests.fixtures"]
