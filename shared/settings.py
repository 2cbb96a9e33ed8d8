"""Settings every service reads from the environment (prefix ``BIGSCHOOL_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from limits import parse_many
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.kafka.connection import KafkaSettings


class ServiceSettings(BaseSettings):
    """What one service of one node needs to run. Each service extends it."""

    model_config = SettingsConfigDict(env_prefix="BIGSCHOOL_", extra="ignore")

    service: str = Field("service", description="Service name, set by each service.")
    node_id: str = Field("local", description="This node's id, e.g. `zj` or `hzsteel`.")
    root_org: str = Field("root", description="The org this node hosts with its subtree.")
    database_url: str = Field(
        "sqlite+aiosqlite:///./bigschool.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///… or postgresql+asyncpg://…",
    )
    kafka: KafkaSettings = Field(
        default_factory=KafkaSettings,
        description="The KAFKA_* environment: bootstrap servers and this node's credentials.",
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    http_workers: int = Field(
        1, ge=1, le=64, description="Processes serving this service (PostgreSQL: more than one)."
    )
    migrate_on_start: bool = True

    # Security: RS256 tokens from the federation's issuer, audience bigschool:<node>.
    jwt_issuer: str = "bigschool-federation"
    jwt_jwks_path: Path | None = Field(None, description="JWKS file with the issuer's keys.")
    jwt_jwks_url: str | None = Field(None, description="JWKS URL (production).")

    # HTTP guards (shared/web/guards.py): body size, rate limits per caller, Idempotency-Key.
    http_max_body_bytes: int = Field(
        1_048_576, ge=0, description="Largest request body; a larger one is a 413."
    )
    http_body_limits: dict[str, int] = Field(
        default_factory=dict,
        description='Body limits of path prefixes (an upload route), e.g. {"/rosters": 20971520}.',
    )
    rate_limit_enabled: bool = True
    rate_limit_read: str = Field(
        "1200/minute", description="Per caller: GET and HEAD (limits notation, `;` between)."
    )
    rate_limit_write: str = Field("300/minute", description="Per caller: POST, PUT, PATCH, DELETE.")
    rate_limit_storage: str = Field(
        "memory://", description="Where budgets are counted; redis://… shares them by replicas."
    )
    rate_limit_strategy: Literal["moving-window", "fixed-window", "sliding-window-counter"] = (
        "moving-window"
    )
    idempotency_ttl_hours: float = Field(
        24, gt=0, description="How long an Idempotency-Key and its response are kept."
    )

    # The org tree's integrity: org-tree events are signed by the writing node (JWS, EdDSA).
    node_key_path: Path | None = Field(
        None, description="This node's Ed25519 private key (PEM); enrollment signs with it."
    )
    node_key_id: str | None = Field(None, description="Its kid; default `node:<node_id>:1`.")
    federation_jwks_path: Path | None = Field(
        None, description="Every node's public key by kid (the federation's JWKS); required."
    )
    held_limit_seconds: float = Field(
        600,
        gt=0,
        description="How long a message naming an org (or node key) not known yet "
        "is held before it is dead-lettered.",
    )

    # One-click links in e-mails (shared/links.py): the same secret at every service of a node.
    link_secret: SecretStr | None = Field(
        None, description="Signs one-click links (at least 32 characters); none: no links."
    )
    link_max_age_hours: int = Field(14 * 24, ge=1, description="How long a link works.")

    # Kafka consumer tuning; tests lower the session timeout to move partitions fast.
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 3_000
    kafka_batch_size: int = Field(100, ge=1, description="Records a consumer takes per poll.")
    kafka_fetch_max_wait_ms: int = Field(
        50, ge=0, description="How long the broker may wait to fill a fetch (batching)."
    )
    kafka_fetch_min_bytes: int = Field(16_384, ge=1, description="What fills a fetch.")
    processed_retention_days: int = Field(
        35, ge=1, description="Keep consumed event ids longer than any topic keeps messages."
    )

    federation_timezone: str = "Asia/Shanghai"
    clock_offset_file: Path | None = Field(
        None, description="Tests only: seconds to add to the clock, read from this file."
    )
    outbox_poll_seconds: float = 0.2
    outbox_linger_ms: float = Field(
        10,
        ge=0,
        description="Wait this long after a commit before relaying: concurrent "
        "transactions' events go in one batch.",
    )
    ops_sample_seconds: float = Field(
        10.0,
        gt=0,
        description="How often the outbox backlog and age, consumer lag and readiness "
        "gauges of /metrics are sampled.",
    )
    log_level: str = "INFO"

    @field_validator("rate_limit_read", "rate_limit_write")
    @classmethod
    def _a_rate_limit(cls, value: str) -> str:
        parse_many(value)  # a ValueError names what it cannot read: the operator's own text
        return value

    @property
    def source(self) -> str:
        """CloudEvents `source` of everything this service publishes."""
        return f"bigschool/{self.node_id}/{self.service}"

    @property
    def audience(self) -> str:
        return f"bigschool:{self.node_id}"

    def group_id(self, handler: str) -> str:
        """Consumer groups are per node, service and handler: two nodes never share one."""
        return f"bigschool.{self.node_id}.{self.service}.{handler}"
