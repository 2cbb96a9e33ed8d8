"""The portal's settings, read from the environment (prefix ``BIGSCHOOL_PORTAL_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class PortalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BIGSCHOOL_PORTAL_", extra="ignore")

    node_id: str = Field("local", description="The node this portal serves (tokens' audience).")
    enrollment_url: str = "http://127.0.0.1:8001"
    awards_url: str = "http://127.0.0.1:8002"
    notifications_url: str = "http://127.0.0.1:8003"
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    session_key: SecretStr = Field(
        description="A Fernet key (urlsafe base64 of 32 bytes): encrypts the session cookie."
    )
    cookie_secure: bool = Field(True, description="Send cookies over HTTPS only (off locally).")
    federation_timezone: str = "Asia/Shanghai"
    api_timeout_seconds: float = 15

    # Local demo only: the portal signs tokens itself with the demo issuer's key.
    demo_issuer: str = "bigschool-federation"
    demo_private_key_path: Path | None = Field(None, description="The demo issuer's key (PEM).")
    demo_kid: str | None = None
    demo_people_path: Path | None = Field(
        None, description='JSON list of {"key", "name", "org", "roles", "member_id"?}.'
    )
    # Production: OpenID Connect against the federation's identity provider (README).
    oidc_issuer: str | None = Field(
        None, description="The provider's issuer URL (its discovery document is below it)."
    )
    oidc_client_id: str = "bigschool-portal"
    oidc_client_secret: SecretStr | None = Field(
        None, description="For a confidential client; a public client relies on PKCE alone."
    )
    oidc_redirect_uri: str | None = Field(
        None, description="This portal's /signin/callback as the provider knows it."
    )
    oidc_scopes: str = "openid profile"
    log_level: str = "INFO"
