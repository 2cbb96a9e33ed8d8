"""A throw-away PostgreSQL cluster from the locally installed server binaries (no Docker).

python -m deploy.local.postgres run --port 55432 --data .data/pg
"""

from __future__ import annotations

import argparse
import atexit
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from deploy.local.foreground import stop_on_signals

__all__ = ["LocalPostgres", "find_pg_bin", "main", "validate_db_name"]

_PG_USER = "postgres"  # OS user that owns the cluster when we run as root, and the DB superuser
_DB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def find_pg_bin() -> Path:
    """Directory holding initdb/pg_ctl: $PG_BIN, else the newest /usr/lib/postgresql/<N>/bin
    (Debian/Ubuntu layout), else wherever ``initdb`` is on PATH."""
    env = os.environ.get("PG_BIN")
    if env:
        if not (Path(env) / "initdb").is_file():
            raise RuntimeError(f"PG_BIN={env} has no initdb")
        return Path(env)
    candidates = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    if candidates:
        # Numeric sort: "9.6" < "15" < "16" (a string sort would put 9.6 last).
        def version(bin_dir: Path) -> tuple[int, ...]:
            return tuple(int(x) for x in re.findall(r"\d+", bin_dir.parent.name))

        return max(candidates, key=version)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError(
        "PostgreSQL server binaries not found: install the `postgresql` package "
        "(scripts/bootstrap does it when run as root) or set PG_BIN"
    )


def validate_db_name(name: str) -> str:
    """Accept only plain identifiers, so names never need quoting anywhere (URLs, SQL, CLI)."""
    if not _DB_NAME.match(name):
        raise ValueError(f"invalid database name {name!r} (use [A-Za-z_][A-Za-z0-9_]*, ≤63 chars)")
    return name


class LocalPostgres:
    """A PostgreSQL cluster in ``data_dir`` listening on 127.0.0.1:``port`` with trust auth.

    Layout: ``data_dir/pgdata`` (the cluster), ``data_dir/run`` (unix socket),
    ``data_dir/postgres.log``. Reusing ``data_dir`` keeps the databases across restarts.
    """

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.bin_dir = find_pg_bin()
        self.pgdata = self.data_dir / "pgdata"
        self.socket_dir = self.data_dir / "run"
        self.log_path = self.data_dir / "postgres.log"
        self._started = False
        self._lock = threading.Lock()

    @property
    def admin_url(self) -> str:
        return f"postgresql://{_PG_USER}@127.0.0.1:{self.port}/postgres"

    def url(self, name: str, driver: str = "asyncpg") -> str:
        """SQLAlchemy URL of database ``name`` on this server."""
        return f"postgresql+{driver}://{_PG_USER}@127.0.0.1:{self.port}/{validate_db_name(name)}"

    @property
    def running(self) -> bool:
        if not (self.pgdata / "PG_VERSION").is_file():
            return False
        # pg_ctl status: 0 = running, 3 = not running, 4 = no valid data directory.
        proc = self._run_as_pg([self._bin("pg_ctl"), "-D", str(self.pgdata), "status"], check=False)
        return proc.returncode == 0

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout: float = 60) -> Self:
        with self._lock:
            if self._started:
                return self
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.socket_dir.mkdir(exist_ok=True)
            self._hand_over_to_pg_user()
            if not (self.pgdata / "PG_VERSION").is_file():
                self._initdb()
            self._write_config()
            if self.running:
                raise RuntimeError(f"a PostgreSQL server is already running on {self.pgdata}")
            proc = self._run_as_pg(
                [
                    self._bin("pg_ctl"),
                    "-D",
                    str(self.pgdata),
                    "-l",
                    str(self.log_path),
                    "-w",
                    "-t",
                    str(int(timeout)),
                    "start",
                ],
                check=False,
            )
            if proc.returncode != 0:
                raise RuntimeError(
                    f"pg_ctl start failed (exit {proc.returncode}): {proc.stdout}{proc.stderr}\n"
                    f"{self.log_path} ends with:\n{self.log_tail()}"
                )
            self._started = True
            # pg_ctl daemonises the server, so nothing stops it when Python exits: do it here.
            atexit.register(self.stop)
            return self

    def stop(self) -> None:
        """Fast shutdown (disconnect clients, no waiting for them)."""
        with self._lock:
            if not self._started:
                return
            self._started = False
            atexit.unregister(self.stop)
            self._run_as_pg(
                [self._bin("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"],
                check=False,
            )

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- databases ---------------------------------------------------------------------------

    def create_database(self, name: str) -> str:
        """Create database ``name``; return its ``postgresql+asyncpg://`` SQLAlchemy URL."""
        self._client(["createdb", validate_db_name(name)])
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self._client(["dropdb", "--if-exists", "--force", validate_db_name(name)])

    # -- internals ---------------------------------------------------------------------------

    def _bin(self, tool: str) -> str:
        return str(self.bin_dir / tool)

    def _client(self, argv: Sequence[str]) -> None:
        # Client tools connect over TCP with trust auth, so they can run as any OS user.
        cmd = [self._bin(argv[0]), "-h", "127.0.0.1", "-p", str(self.port), "-U", _PG_USER]
        proc = subprocess.run(
            [*cmd, "-w", *argv[1:]],  # -w: never prompt for a password
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {proc.stderr.strip()}")

    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _run_as_pg(self, argv: Sequence[str], *, check: bool) -> subprocess.CompletedProcess[str]:
        # The server refuses to run as root, so as root we drop to the `postgres` OS user.
        cmd = ["runuser", "-u", _PG_USER, "--", *argv] if self._as_root() else list(argv)
        return subprocess.run(
            cmd,
            cwd=self.data_dir,  # a cwd the postgres user can enter (not /root)
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=check,
        )

    def _hand_over_to_pg_user(self) -> None:
        if not self._as_root():
            return
        for root, dirs, files in os.walk(self.data_dir):
            shutil.chown(root, _PG_USER, _PG_USER)
            for entry in (*dirs, *files):
                shutil.chown(os.path.join(root, entry), _PG_USER, _PG_USER)
        probe = self._run_as_pg(["test", "-w", str(self.data_dir)], check=False)
        if probe.returncode != 0:
            # Typical cause: a parent such as /tmp/pytest-of-root is mode 0700.
            raise RuntimeError(
                f"the `{_PG_USER}` OS user cannot write {self.data_dir}: every parent directory "
                "must be traversable by it (e.g. not under a 0700 /tmp/pytest-of-root)"
            )

    def _initdb(self) -> None:
        proc = self._run_as_pg(
            [
                self._bin("initdb"),
                "-D",
                str(self.pgdata),
                "-U",
                _PG_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                # Throw-away cluster: skip fsync of the new files (initdb takes ~1 s instead of ~3).
                "--no-sync",
            ],
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"initdb failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}"
            )
        with open(self.pgdata / "postgresql.conf", "a") as conf:
            conf.write("\n# Local settings, rewritten on every start by deploy.local.postgres\n")
            conf.write("include_if_exists = 'bigschool.conf'\n")

    def _write_config(self) -> None:
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            "max_connections": "300",
            # Tests and the demo never need crash durability; skipping disk flushes makes
            # commits (and CREATE DATABASE) several times faster. Never copy this to production.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        (self.pgdata / "bigschool.conf").write_text(
            "".join(f"{k} = {v}\n" for k, v in settings.items())
        )
        # Trust only local connections: the socket in data_dir and 127.0.0.1.
        (self.pgdata / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        )
        if self._as_root():
            for name in ("bigschool.conf", "pg_hba.conf"):
                shutil.chown(self.pgdata / name, _PG_USER, _PG_USER)

    def log_tail(self, max_chars: int = 4000) -> str:
        """The end of ``postgres.log`` (for error messages)."""
        try:
            return self.log_path.read_text(errors="replace")[-max_chars:]
        except OSError:
            return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.postgres", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a server in the foreground until Ctrl-C / SIGTERM")
    run.add_argument("--port", type=int, default=55432)
    run.add_argument("--data", type=Path, default=Path(".data/pg"), help="data directory")
    run.add_argument(
        "--create-db",
        action="append",
        default=[],
        metavar="NAME",
        help="create this database if missing (repeatable)",
    )
    args = parser.parse_args(argv)

    stop_requested = stop_on_signals()

    pg = LocalPostgres(args.data, args.port)
    pg.start()
    try:
        for name in args.create_db:
            try:
                print(pg.create_database(name), flush=True)
            except RuntimeError as exc:
                if "already exists" not in str(exc):
                    raise
                print(pg.url(name), flush=True)
        print(f"PostgreSQL ready: {pg.admin_url}; log: {pg.log_path}", flush=True)
        while not stop_requested.wait(2.0):
            if not pg.running:
                print(f"PostgreSQL died; log tail:\n{pg.log_tail()}", file=sys.stderr)
                return 1
    finally:
        pg.stop()
    print("PostgreSQL stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
