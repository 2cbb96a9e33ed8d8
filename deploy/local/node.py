"""Run one node — its enrollment, awards and notifications services — as OS processes.

Used by the demo and the end-to-end tests. Each service is its own process with its own
database (SQLite files by default, or PostgreSQL URLs), configured only through the
environment, exactly as in production.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from deploy.local.ports import free_port
from shared.kafka.connection import KafkaConnection

SERVICES = ("enrollment", "awards", "notifications")
# The e2e tests and bench/ register hundreds of members with one cadre's token; the
# defaults (shared/settings.py) are for people. The environment still wins.
LOCAL_RATE_LIMITS = {
    "BIGSCHOOL_RATE_LIMIT_READ": "60000/minute",
    "BIGSCHOOL_RATE_LIMIT_WRITE": "60000/minute",
}


@dataclass
class ServiceProcess:
    service: str
    port: int
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.service],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.service} exited:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.service} not ready after {timeout}s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL to the whole process group (the server and its workers): no shutdown
        hooks, as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout: float = 20) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # the server stops its own workers
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, sig)  # pgid == pid: started with start_new_session
        except ProcessLookupError:
            pass

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@dataclass
class Node:
    """One deployment of the three services: node id, root org, own databases, and its own
    Kafka principal (`kafka`, as provisioned)."""

    node_id: str
    root_org: str
    data_dir: Path
    kafka: KafkaConnection
    jwks_path: Path
    node_key_path: Path
    federation_jwks_path: Path
    database_urls: dict[str, str] = field(default_factory=dict)
    smtp_port: int = 8025
    extra_env: dict[str, str] = field(default_factory=dict)
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)  # per service
    ports: dict[str, int] = field(default_factory=dict)
    services: dict[str, ServiceProcess] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        ports = {service: self.ports.get(service) or free_port() for service in SERVICES}
        enrollment_url = f"http://127.0.0.1:{ports['enrollment']}"
        # One link secret per node, shared by its services (e-mails carry links that the
        # enrollment service verifies); made once and kept in the node's folder.
        secret_file = self.data_dir / "link.secret"
        if not secret_file.exists():
            secret_file.touch(mode=0o600)
            secret_file.write_text(secrets.token_urlsafe(32))
        for service in SERVICES:
            port = ports[service]
            url = self.database_urls.get(service) or (
                f"sqlite+aiosqlite:///{self.data_dir / f'{service}.db'}"
            )
            env = {
                **LOCAL_RATE_LIMITS,
                **{k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")},
                **self.kafka.environment(self.data_dir / "kafka.password"),
                "BIGSCHOOL_NODE_ID": self.node_id,
                "BIGSCHOOL_ROOT_ORG": self.root_org,
                "BIGSCHOOL_DATABASE_URL": url,
                "BIGSCHOOL_HTTP_PORT": str(port),
                "BIGSCHOOL_JWT_JWKS_PATH": str(self.jwks_path),
                "BIGSCHOOL_NODE_KEY_PATH": str(self.node_key_path),
                "BIGSCHOOL_FEDERATION_JWKS_PATH": str(self.federation_jwks_path),
                "BIGSCHOOL_SMTP_PORT": str(self.smtp_port),
                "BIGSCHOOL_LINK_SECRET": secret_file.read_text(),
                "BIGSCHOOL_ENROLLMENT_PUBLIC_URL": enrollment_url,
                "BIGSCHOOL_PUBLIC_BASE_URL": enrollment_url,
                **self.extra_env,
                **self.service_env.get(service, {}),
            }
            self.services[service] = ServiceProcess(
                service, port, env, self.data_dir / f"{service}.log"
            )

    def url(self, service: str) -> str:
        return self.services[service].url

    def start(self, timeout: float = 90) -> None:
        self.spawn()
        self.wait_ready(timeout)

    def spawn(self) -> None:
        """Start every service's process without waiting for it."""
        for proc in self.services.values():
            proc.start()

    def wait_ready(self, timeout: float = 90) -> None:
        for proc in self.services.values():
            proc.wait_ready(timeout)

    def stop(self) -> None:
        for proc in self.services.values():
            if proc.proc is not None and proc.proc.poll() is None:
                proc.proc.send_signal(signal.SIGTERM)
        for proc in self.services.values():
            proc.stop()
