"""Event contracts: the CloudEvents envelope, the topics and the versioned event models."""
