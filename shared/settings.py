"""Settings every service reads from the environment (prefix ``BIGSCHOOL_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", alias="KAFKA_BOOTSTRAP_SERVERS")
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    migrate_on_start: bool = True

    # Security: RS256 tokens from the federation's issuer, audience bigschool:<node>.
    jwt_issuer: str = "bigschool-federation"
    jwt_jwks_path: Path | None = Field(None, description="JWKS file with the issuer's keys.")
    jwt_jwks_url: str | None = Field(None, description="JWKS URL (production).")

    # Kafka consumer tuning; tests lower the session timeout to move partitions fast.
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 3_000
    topic_partitions: int = Field(6, description="Partitions for topics this node creates.")
    topic_replication: int = Field(1, ge=1, description="Replicas of topics this node creates.")
    processed_retention_days: int = Field(
        35, ge=1, description="Keep consumed event ids longer than any topic keeps messages."
    )

    federation_timezone: str = "Asia/Shanghai"
    outbox_poll_seconds: float = 0.2
    log_level: str = "INFO"

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
