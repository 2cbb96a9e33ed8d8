"""HTTP pieces every service shares: problem details, health, readiness, metrics, tracing."""
