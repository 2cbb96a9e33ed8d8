"""`POST /enrollments` of one enrollment service process beside a bare FastAPI endpoint served
by the same uvicorn settings (bench/serve.py), each loaded by one async client: one pool of
`concurrency` persistent connections (a small HTTP/1.1 client, see `Connection`), one token
issued beforehand, `concurrency` requests in flight. Figures: accepted (202) requests/s,
p50/p99 latency. The bare endpoint gets 5x the requests (at least 5,000): it is that much
faster, and a run of a fraction of a second would say little.

(Not bench/http.py: a script run from bench/ would shadow the standard library's `http`.)

The enrollment service runs as its node does (Kafka principal, relay, consumers) on SQLite
or PostgreSQL; a cadre enrols members of their org, and each request is a new member asking
for a seat in a programme of another node (so the relay sends it to that node's inbox, which
nobody reads here). Rate limits stay on, set high enough never to refuse the one caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import ROOT, seed
from bench.common import ENROLLMENT_MIGRATIONS, RunEnv, cpu_seconds, log, percentile, tag
from bench.report import Figure
from deploy.local.client import Tokens
from deploy.local.node import Node, ServiceProcess
from deploy.local.ports import free_port
from shared.kafka.provision import provision
from shared.migrations import upgrade_to_head

LIMIT_NAME = "req/s bare FastAPI endpoint, same uvicorn settings"


@dataclass
class Load:
    """What a load run saw: one (started, finished, status) per request, and its wall time."""

    results: list[tuple[float, float, int]]
    seconds: float
    client_cpu_seconds: float

    @property
    def accepted(self) -> int:
        return sum(1 for _, _, status in self.results if status == 202)

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds

    def latency_ms(self, p: float) -> float:
        return 1000 * percentile([end - start for start, end, _ in self.results], p)

    def statuses(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for _, _, status in self.results:
            out[str(status)] = out.get(str(status), 0) + 1
        return out


@dataclass
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One persistent HTTP/1.1 connection: a request, then its response, in turn.

    The load comes from this small client rather than httpx: at 32 connections httpx's pool
    spends 1-2.5 ms of CPU per request in this process, so on 2 cores it, not the server,
    would be what the bare endpoint's figure measures."""

    def __init__(self, host: str, port: int, headers: bytes) -> None:
        self.host, self.port, self.headers = host, port, headers
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> Response:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(
            b"POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s"
            % (path.encode(), self.headers, len(body), body)
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        if "content-length" in fields:
            data = await self.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            data = await self._chunked()
        else:
            data = b""
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return Response(status, data)

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        out = bytearray()
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return bytes(out)
            out += await self.reader.readexactly(size)
            await self.reader.readexactly(2)

    async def close(self) -> None:
        writer, self.writer, self.reader = self.writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def post_all(
    base_url: str,
    token: str,
    path: str | Sequence[str],
    bodies: Sequence[dict[str, Any]],
    concurrency: int,
    on_response: Callable[[int, Response | None], None] | None = None,
) -> Load:
    """POST every JSON body with `concurrency` requests in flight over as many persistent
    connections, all with one token. A request that fails on the network counts as status 0.
    `path` is every request's, or one per body (e.g. `/nominations/{id}/endorse`)."""
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    headers = (
        f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\n"
    ).encode()
    payloads = [json.dumps(b, separators=(",", ":")).encode() for b in bodies]
    paths = [path] * len(bodies) if isinstance(path, str) else list(path)
    results: list[tuple[float, float, int]] = [(0.0, 0.0, 0)] * len(bodies)
    next_index = iter(range(len(bodies)))

    async def worker() -> None:
        connection = Connection(host, port, headers)
        try:
            for i in next_index:
                start = time.perf_counter()
                response: Response | None
                try:
                    response = await connection.post(paths[i], payloads[i])
                    status = response.status
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    await connection.close()
                    response, status = None, 0
                results[i] = (start, time.perf_counter(), status)
                if on_response is not None:
                    on_response(i, response)
        finally:
            await connection.close()

    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    return Load(results, seconds, cpu)


class Server:
    """A `python -m bench.serve <kind>` process, ready when its /readyz answers 200."""

    def __init__(self, kind: str, env: dict[str, str], port: int, log_path: Path) -> None:
        self.kind = kind
        self.process = ServiceProcess(kind, port, env, log_path)

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def pid(self) -> int | None:
        return self.process.proc.pid if self.process.proc is not None else None

    def start(self) -> None:
        self.process.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.process.log_path.open("ab") as out:
            self.process.proc = subprocess.Popen(
                [sys.executable, "-m", "bench.serve", self.kind],
                env=self.process.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.process.wait_ready(90)

    def stop(self) -> None:
        self.process.stop()


async def measure(
    server: Server,
    token: str,
    bodies: list[dict[str, Any]],
    warmup: int,
    concurrency: int,
) -> tuple[Load, float]:
    """Warm up, then load; returns the load and the server's CPU seconds per request."""
    await post_all(server.url, token, "/enrollments", bodies[:warmup], concurrency)
    before = cpu_seconds({"server": server.pid})["server"]
    load = await post_all(server.url, token, "/enrollments", bodies[warmup:], concurrency)
    after = cpu_seconds({"server": server.pid})["server"]
    return load, (after - before) / max(1, len(bodies) - warmup)


async def bare(env: RunEnv, requests: int, warmup: int, concurrency: int) -> dict[str, Any]:
    if "bare_http" in env.limits:
        return dict(env.limits["bare_http"])
    port = free_port()
    server_env = {**os.environ, "BIGSCHOOL_HTTP_PORT": str(port)}
    server = Server("bare", server_env, port, env.work / "bare-http.log")
    await asyncio.to_thread(server.start)
    try:
        requests = max(5 * requests, 5_000)
        bodies = [
            {"programme_id": f"p-{i}", "member_id": f"m-{i}"} for i in range(requests + warmup)
        ]
        log(f"http: {requests} POSTs to the bare endpoint …")
        load, cpu = await measure(server, "bench-token", bodies, warmup, concurrency)
    finally:
        await asyncio.to_thread(server.stop)
    figures = {
        "rate": load.rate,
        "p50_ms": load.latency_ms(50),
        "p99_ms": load.latency_ms(99),
        "statuses": load.statuses(),
        "server_cpu_ms_per_request": 1000 * cpu,
        "client_cpu_seconds": load.client_cpu_seconds,
        "seconds": load.seconds,
    }
    env.limits["bare_http"] = figures
    log(f"http: bare endpoint {load.rate:,.0f} req/s, p50 {figures['p50_ms']:.1f} ms")
    return dict(figures)


async def enrollment_http(
    env: RunEnv, engine: str, requests: int, warmup: int, concurrency: int
) -> Figure:
    limit = await bare(env, requests, warmup, concurrency)
    home, owner = f"bh{tag()}", f"bo{tag()}"
    folder = env.work / f"http-{home}"
    principals = await provision(env.kafka, [home, owner], folder / "kafka-secrets", partitions=6)
    if engine == "postgresql":
        url = await env.database("bench_http")
    else:
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite+aiosqlite:///{folder / 'enrollment.db'}"
    await upgrade_to_head(ENROLLMENT_MIGRATIONS, url)
    orgs = seed.tree(owner, home)
    programme_id, members = await seed.seed(
        url, orgs, capacity=requests + warmup, members=requests + warmup
    )
    _, jwks, node_key = seed.keys(folder / "keys", home)
    node = Node(
        home,
        orgs.home_root,
        folder,
        principals[home],
        jwks,
        node_key,
        folder / "keys" / "federation-jwks.json",
        database_urls={"enrollment": url},
        extra_env=seed.UNLIMITED,
    )
    service = node.services["enrollment"]
    server = Server("enrollment", service.env, service.port, folder / "enrollment.log")
    token = Tokens(folder / "keys").issue(
        node=home, org=orgs.grassroots, roles="cadre", sub=f"cadre@{orgs.grassroots}"
    )
    await asyncio.to_thread(server.start)
    try:
        bodies = [{"programme_id": programme_id, "member_id": m} for m in members]
        log(f"http: {requests} POST /enrollments to the enrollment service on {engine} …")
        load, cpu = await measure(server, token, bodies, warmup, concurrency)
    finally:
        await asyncio.to_thread(server.stop)
    label = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}.get(engine, engine)
    log(
        f"http: enrollment on {label} {load.rate:,.1f} accepted/s, "
        f"p50 {load.latency_ms(50):.0f} ms, p99 {load.latency_ms(99):.0f} ms, {load.statuses()}"
    )
    return Figure(
        f"POST /enrollments, one process, {label}",
        load.rate,
        "accepted/s",
        LIMIT_NAME,
        limit["rate"],
        0.5,
        key=f"http_{engine}",
        details={
            "p50_ms": round(load.latency_ms(50), 1),
            "p99_ms": round(load.latency_ms(99), 1),
            "statuses": load.statuses(),
            "requests": requests,
            "concurrency": concurrency,
            "seconds": round(load.seconds, 3),
            "server_cpu_ms_per_request": round(1000 * cpu, 2),
            "client_cpu_seconds": round(load.client_cpu_seconds, 2),
            "bare_p50_ms": round(limit["p50_ms"], 1),
            "bare_p99_ms": round(limit["p99_ms"], 1),
            "bare_server_cpu_ms_per_request": round(limit["server_cpu_ms_per_request"], 2),
            "bare_client_cpu_seconds": round(limit["client_cpu_seconds"], 2),
        },
    )
