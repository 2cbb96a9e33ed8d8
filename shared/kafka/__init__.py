"""Kafka connections (credentials for every client), topic creation and provisioning."""
