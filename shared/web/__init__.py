"""HTTP pieces every service shares: problem details, health, readiness, metrics, tracing,
and the guards in front of every route (guards.py)."""
