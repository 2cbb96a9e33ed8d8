"""Kubernetes glue: the migration step of every service pod, the Strimzi resources."""
