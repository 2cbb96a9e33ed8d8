"""A real single-node Apache Kafka broker (KRaft, broker+controller) for tests and the demo.

The broker jars come from Maven Central (``deploy/kafka/pom.xml``); no Docker and no Kafka
distribution download is needed, only Java 17 and Maven.

    python -m deploy.local.kafka run --port 9092 --data .data/kafka
"""

from __future__ import annotations

import argparse
import atexit
import base64
import fcntl
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from deploy.local.foreground import stop_on_signals
from deploy.local.ports import free_port, port_open
from shared.kafka.connection import KafkaConnection

__all__ = [
    "ADMIN_USER",
    "KAFKA_DIR",
    "LocalKafka",
    "ensure_jars",
    "find_java",
    "main",
    "server_properties",
]

# deploy/local/kafka.py -> deploy/kafka (pom.xml, log4j2.properties, lib/)
KAFKA_DIR = Path(__file__).resolve().parents[1] / "kafka"
_STARTED_MARKER = b"Kafka Server started"
# Fills deploy/kafka/lib with the broker and its runtime dependencies (run in deploy/kafka).
_MVN_ARGS = [
    "-B",
    "-q",
    "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies",
    "-DoutputDirectory=lib",
    "-DincludeScope=runtime",
]


def _has_jars(lib_dir: Path) -> bool:
    # The broker jar itself is the one that matters; a half-filled lib/ without it is "empty".
    return any(lib_dir.glob("kafka_2.13-*.jar"))


def ensure_jars(kafka_dir: Path = KAFKA_DIR) -> Path:
    """Fill ``kafka_dir/lib`` from Maven Central if it is missing or empty; return the lib dir."""
    lib_dir = kafka_dir / "lib"
    if _has_jars(lib_dir):
        return lib_dir
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError(f"{lib_dir} has no Kafka jars and `mvn` is not on PATH to fetch them")
    # A file lock so that parallel test workers do not run two Maven downloads into one folder
    # (kept inside lib/, which git ignores).
    lib_dir.mkdir(exist_ok=True)
    with open(lib_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _has_jars(lib_dir):
            proc = subprocess.run(
                [mvn, *_MVN_ARGS],
                cwd=kafka_dir,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0 or not _has_jars(lib_dir):
                raise RuntimeError(
                    f"mvn copy-dependencies failed (exit {proc.returncode}):\n"
                    f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
                )
    return lib_dir


def find_java() -> str:
    """The ``java`` executable: $JAVA_HOME/bin/java if set, else the one on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("java (17+) not found: set JAVA_HOME or put java on PATH")
    return java


def _new_cluster_id() -> str:
    # Kafka cluster ids are 16 random bytes, URL-safe base64 without padding (22 chars).
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode("ascii")


ADMIN_USER = "admin"  # the super user that provisions topics, node principals and ACLs


def server_properties(
    *,
    port: int,
    controller_port: int,
    log_dir: str,
    admin_password: str,
    controller_password: str,
    listen_host: str = "127.0.0.1",
    advertised_host: str = "127.0.0.1",
) -> dict[str, str]:
    """Broker config of the single combined KRaft node; shared with the Docker backend so both
    backends behave the same.

    Authentication is always on: clients speak SASL on the one client listener — node
    principals with SCRAM-SHA-512 (created by provisioning), the admin with PLAIN against a
    static user in the broker's own config (so no user has to exist before the first start).
    ACLs go through the standard KRaft authorizer, and nothing is allowed without an ACL.
    The controller listener is SASL too: a PLAINTEXT one would let any local process act as
    ANONYMOUS towards the controller."""
    plain = "org.apache.kafka.common.security.plain.PlainLoginModule"
    scram = "org.apache.kafka.common.security.scram.ScramLoginModule"
    return {
        "process.roles": "broker,controller",
        "node.id": "1",
        # The node talks to its own controller, always reachable on loopback.
        "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
        "listeners": (
            f"SASL_PLAINTEXT://{listen_host}:{port},CONTROLLER://{listen_host}:{controller_port}"
        ),
        "advertised.listeners": f"SASL_PLAINTEXT://{advertised_host}:{port}",
        "inter.broker.listener.name": "SASL_PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
        "sasl.mechanism.inter.broker.protocol": "PLAIN",
        "listener.name.sasl_plaintext.sasl.enabled.mechanisms": "SCRAM-SHA-512,PLAIN",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": (
            f'{plain} required username="{ADMIN_USER}" password="{admin_password}" '
            f'user_{ADMIN_USER}="{admin_password}";'
        ),
        "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": f"{scram} required;",
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": (
            f'{plain} required username="controller" password="{controller_password}" '
            f'user_controller="{controller_password}";'
        ),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{ADMIN_USER};User:controller",
        "allow.everyone.if.no.acl.found": "false",
        "log.dirs": log_dir,
        # Single node: every internal topic must accept replication factor / min ISR 1,
        # otherwise group offsets, transactions and share groups fail to initialise.
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "num.partitions": "1",
        # Tests create their topics explicitly; a typo must fail instead of auto-creating.
        "auto.create.topics.enable": "false",
        # No 3 s wait before the first rebalance, and allow short session timeouts in tests.
        "group.initial.rebalance.delay.ms": "0",
        "group.min.session.timeout.ms": "1000",
        # The demo keeps its data across restarts; never expire it by age (10 years).
        "log.retention.hours": "87600",
    }


class LocalKafka:
    """One KRaft Kafka node (broker + controller) as a child process of this Python process.

    ``data_dir`` keeps the config, the cluster id, the log segments and ``kafka.log``; reusing it
    across restarts keeps the topics and their data.
    """

    def __init__(self, data_dir: Path, port: int, controller_port: int | None = None) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.controller_port = controller_port if controller_port is not None else free_port()
        self.log_path = self.data_dir / "kafka.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._lock = threading.Lock()
        self.startup_seconds = 0.0  # wall time of the last successful start()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def admin(self) -> KafkaConnection:
        """The super user's connection: provisions topics, node principals and ACLs."""
        return KafkaConnection(
            self.bootstrap,
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="PLAIN",
            username=ADMIN_USER,
            password=self._secret("admin.password"),
        )

    def _secret(self, name: str) -> str:
        """A password kept in the data dir (0600), made on first use: a restart reuses it."""
        path = self.data_dir / name
        if not path.is_file():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(24))
        return path.read_text().strip()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout: float = 90) -> Self:
        """Start the broker and block until it serves clients; raise with the log tail if not."""
        with self._lock:
            if self.running:
                return self
            began = time.monotonic()
            lib_dir = ensure_jars()
            java = find_java()
            self.data_dir.mkdir(parents=True, exist_ok=True)
            config = self._write_config()
            self._format_storage(java, lib_dir, config)

            self._log_file = open(self.log_path, "ab")  # closed in stop()
            # Only look for the "started" line after this offset: the log is kept across runs.
            log_offset = self._log_file.tell()
            self._proc = subprocess.Popen(
                [
                    java,
                    "-Xmx512m",
                    "-XX:+UseG1GC",
                    "-XX:+ExitOnOutOfMemoryError",
                    "-Djava.awt.headless=true",
                    f"-Dlog4j2.configurationFile={KAFKA_DIR / 'log4j2.properties'}",
                    "-cp",
                    f"{lib_dir}/*",  # the JVM expands the wildcard, no shell involved
                    "kafka.Kafka",
                    str(config),
                ],
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                # Own session/process group: Ctrl-C in a terminal does not hit the broker
                # directly, and stop() can signal the whole group.
                start_new_session=True,
            )
            # Last-resort cleanup if the owner forgets stop() (normal interpreter exit only).
            atexit.register(self.stop)
            try:
                self._wait_started(log_offset, deadline=began + timeout)
            except BaseException:
                self._stop_locked()
                raise
            self.startup_seconds = time.monotonic() - began
            return self

    def stop(self) -> None:
        """SIGTERM the broker (clean shutdown), SIGKILL it if it takes more than 30 s."""
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            atexit.unregister(self.stop)
            if proc.poll() is None:
                _signal_group(proc, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    _signal_group(proc, signal.SIGKILL)
                    proc.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def log_tail(self, max_bytes: int = 6000) -> str:
        """The end of ``kafka.log`` (for error messages)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(max(0, f.seek(0, os.SEEK_END) - max_bytes))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # -- internals ---------------------------------------------------------------------------

    def _write_config(self) -> Path:
        props = server_properties(
            port=self.port,
            controller_port=self.controller_port,
            log_dir=str(self.data_dir / "logs"),
            admin_password=self._secret("admin.password"),
            controller_password=self._secret("controller.password"),
        )
        config = self.data_dir / "server.properties"
        config.touch(mode=0o600)  # it holds the admin's and the controller's passwords
        config.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        return config

    def _cluster_id(self) -> str:
        # Persisted so that a restart on the same data dir matches the formatted meta.properties.
        path = self.data_dir / "cluster.id"
        if path.is_file():
            return path.read_text().strip()
        cluster_id = _new_cluster_id()
        path.write_text(cluster_id + "\n")
        return cluster_id

    def _format_storage(self, java: str, lib_dir: Path, config: Path) -> None:
        proc = subprocess.run(
            [
                java,
                f"-Dlog4j2.configurationFile={KAFKA_DIR / 'log4j2.properties'}",
                "-cp",
                f"{lib_dir}/*",
                "kafka.tools.StorageTool",
                "format",
                "-t",
                self._cluster_id(),
                "-c",
                str(config),
                "--ignore-formatted",
            ],
            cwd=self.data_dir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"kafka-storage format failed (exit {proc.returncode}):\n"
                f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
            )

    def _wait_started(self, log_offset: int, deadline: float) -> None:
        assert self._proc is not None
        seen_marker = False
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"Kafka exited with code {self._proc.returncode} during startup; "
                    f"{self.log_path} ends with:\n{self.log_tail()}"
                )
            if not seen_marker:
                with open(self.log_path, "rb") as f:
                    f.seek(log_offset)
                    seen_marker = _STARTED_MARKER in f.read()
            if seen_marker and port_open("127.0.0.1", self.port):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"Kafka did not start on {self.bootstrap} in time; "
                    f"{self.log_path} ends with:\n{self.log_tail()}"
                )
            time.sleep(0.2)


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(proc.pid, sig)  # pgid == pid thanks to start_new_session=True
    except ProcessLookupError:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.kafka", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a broker in the foreground until Ctrl-C / SIGTERM")
    run.add_argument("--port", type=int, default=9092, help="client (PLAINTEXT) port")
    run.add_argument("--controller-port", type=int, default=None, help="default: a free port")
    run.add_argument("--data", type=Path, default=Path(".data/kafka"), help="data directory")
    run.add_argument("--timeout", type=float, default=90, help="startup timeout in seconds")
    args = parser.parse_args(argv)

    stop_requested = stop_on_signals()

    kafka = LocalKafka(args.data, args.port, args.controller_port)
    kafka.start(timeout=args.timeout)
    print(
        f"Kafka ready on {kafka.bootstrap} (pid {kafka.pid}, "
        f"{kafka.startup_seconds:.1f} s); log: {kafka.log_path}",
        flush=True,
    )
    try:
        while not stop_requested.wait(1.0):
            if not kafka.running:
                print(f"Kafka died; log tail:\n{kafka.log_tail()}", file=sys.stderr)
                return 1
    finally:
        kafka.stop()
    print("Kafka stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
