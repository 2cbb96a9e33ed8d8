"""How every Kafka client of this project connects: bootstrap servers, and who it is.

In production every node is its own Kafka principal (SASL/SCRAM-SHA-512, over TLS where the
network is not trusted), with ACLs that let it read and write only what is its to read and
write (``shared.kafka.provision``). One `KafkaConnection` is built from the environment and
handed to every producer, consumer and admin client, so no client can forget the credentials.

    KAFKA_BOOTSTRAP_SERVERS=kafka-1:9093,kafka-2:9093
    KAFKA_SECURITY_PROTOCOL=SASL_SSL           # PLAINTEXT | SASL_PLAINTEXT | SASL_SSL | SSL
    KAFKA_SASL_MECHANISM=SCRAM-SHA-512         # or SCRAM-SHA-256, PLAIN
    KAFKA_SASL_USERNAME=node-hzsteel
    KAFKA_SASL_PASSWORD_FILE=/run/secrets/kafka-password   # or KAFKA_SASL_PASSWORD
    KAFKA_SSL_CAFILE=/etc/bigschool/kafka-ca.pem            # and _CERTFILE/_KEYFILE for mTLS
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from aiokafka.helpers import create_ssl_context
from faststream.security import (
    BaseSecurity,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SecurityProtocol = Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]


class KafkaConfigError(ValueError):
    """The Kafka client settings do not fit together (e.g. SASL without a user)."""


@dataclass(frozen=True)
class KafkaConnection:
    """Where the cluster is and who this client is; turns into each client library's kwargs."""

    bootstrap_servers: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    username: str | None = None
    password: str | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None

    def __post_init__(self) -> None:
        if self.uses_sasl and not (self.username and self.password):
            raise KafkaConfigError(
                f"{self.security_protocol} needs KAFKA_SASL_USERNAME and a password "
                "(KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE)"
            )

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SASL_SSL", "SSL")

    @property
    def principal(self) -> str:
        """The Kafka principal the broker sees, as ACLs name it."""
        return f"User:{self.username}" if self.username else "User:ANONYMOUS"

    def as_user(self, username: str, password: str) -> KafkaConnection:
        """The same cluster and transport, another principal (provisioning, tests)."""
        return replace(
            self,
            security_protocol="SASL_SSL" if self.uses_tls else "SASL_PLAINTEXT",
            sasl_mechanism="SCRAM-SHA-512",
            username=username,
            password=password,
        )

    def anonymous(self) -> KafkaConnection:
        """The same cluster without credentials (to prove the broker refuses it)."""
        return replace(
            self,
            security_protocol="SSL" if self.uses_tls else "PLAINTEXT",
            username=None,
            password=None,
        )

    def environment(self, password_file: Path) -> dict[str, str]:
        """The KAFKA_* variables that make a process connect as this principal; the password
        is written to `password_file` (0600) rather than put into the environment."""
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "KAFKA_SECURITY_PROTOCOL": self.security_protocol,
            "KAFKA_SASL_MECHANISM": self.sasl_mechanism,
        }
        if self.username and self.password:
            password_file.touch(mode=0o600)
            password_file.write_text(self.password)
            env |= {
                "KAFKA_SASL_USERNAME": self.username,
                "KAFKA_SASL_PASSWORD_FILE": str(password_file),
            }
        for name, path in [
            ("CAFILE", self.ssl_cafile),
            ("CERTFILE", self.ssl_certfile),
            ("KEYFILE", self.ssl_keyfile),
        ]:
            if path is not None:
                env[f"KAFKA_SSL_{name}"] = str(path)
        return env

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.uses_tls:
            return None
        context: ssl.SSLContext = create_ssl_context(  # aiokafka ships no type information
            cafile=str(self.ssl_cafile) if self.ssl_cafile else None,
            certfile=str(self.ssl_certfile) if self.ssl_certfile else None,
            keyfile=str(self.ssl_keyfile) if self.ssl_keyfile else None,
        )
        return context

    def aiokafka(self) -> dict[str, Any]:
        """Keyword arguments for AIOKafkaProducer, AIOKafkaConsumer and AIOKafkaAdminClient."""
        kwargs: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        if self.uses_tls:
            kwargs["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            kwargs |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password,
            }
        return kwargs

    def kafka_python(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python's KafkaAdminClient (users and ACLs)."""
        kwargs = self.aiokafka()
        if "ssl_context" in kwargs and kwargs["ssl_context"] is None:
            del kwargs["ssl_context"]
        return kwargs

    def faststream_security(self) -> BaseSecurity | None:
        """The same settings for FastStream's KafkaBroker (and its AsyncAPI document)."""
        context = self.ssl_context()
        if not self.uses_sasl:
            return BaseSecurity(ssl_context=context) if context else None
        assert self.username and self.password  # checked in __post_init__
        kinds: dict[str, type[SASLPlaintext | SASLScram256 | SASLScram512]] = {
            "PLAIN": SASLPlaintext,
            "SCRAM-SHA-256": SASLScram256,
            "SCRAM-SHA-512": SASLScram512,
        }
        return kinds[self.sasl_mechanism](
            self.username, self.password, ssl_context=context, use_ssl=self.uses_tls
        )


class KafkaSettings(BaseSettings):
    """The `KAFKA_*` environment of every process that talks to Kafka."""

    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = Field(None, description="Prefer the _FILE variant.")
    sasl_password_file: Path | None = Field(None, description="A file holding the password.")
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None

    @model_validator(mode="after")
    def _one_password(self) -> KafkaSettings:
        if self.sasl_password is not None and self.sasl_password_file is not None:
            raise ValueError("set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both")
        return self

    def connection(self) -> KafkaConnection:
        password = self.sasl_password.get_secret_value() if self.sasl_password else None
        if self.sasl_password_file is not None:
            try:
                password = self.sasl_password_file.read_text().strip()
            except OSError as exc:
                raise KafkaConfigError(
                    f"KAFKA_SASL_PASSWORD_FILE {self.sasl_password_file}: {exc.strerror}"
                ) from exc
        return KafkaConnection(
            bootstrap_servers=self.bootstrap_servers,
            security_protocol=self.security_protocol,
            sasl_mechanism=self.sasl_mechanism,
            username=self.sasl_username,
            password=password,
            ssl_cafile=self.ssl_cafile,
            ssl_certfile=self.ssl_certfile,
            ssl_keyfile=self.ssl_keyfile,
        )
