"""A real HTTP server that records every request, for tests and the demo: the local SMS
provider (``POST /messages``) and a webhook receiver.

Requests are kept in memory (``HttpSink.requests``) and, with ``log_dir``, appended to
``requests.jsonl`` there so the demo's text messages can be read. Tests script failures
(``fail_next(3, status=500)``) to play a provider that is down for a while.

    python -m deploy.local.http_sink run --port 8026 --dir .data/sms
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from deploy.local.foreground import stop_on_signals

__all__ = ["HttpSink", "ReceivedRequest", "main"]

MAX_BODY = 1 << 20  # a sink, not a store: larger bodies are refused with 413


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    status: int  # what the sink answered
    received_at: float

    def json(self) -> Any:
        return json.loads(self.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client dropping its kept-alive connection (at shutdown, say) is not news.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class HttpSink:
    """HTTP server on ``host:port`` (port 0 = a free one) in a background thread; every
    request is answered ``200 {"id": n}`` unless a scripted status is due."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, log_dir: Path | None = None) -> None:
        self.host = host
        self.port = port
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self._requests: list[ReceivedRequest] = []
        self._script: deque[int] = deque()
        self._cond = threading.Condition()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Self:
        if self._server is not None:
            return self
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        self._server = _Server((self.host, self.port), _handler_for(self))
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- scripting and inspection ------------------------------------------------------------
    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next `count` requests with `status` (a provider down for a while)."""
        with self._cond:
            self._script.extend([status] * count)

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._cond:
            return list(self._requests)

    def clear(self) -> None:
        with self._cond:
            self._requests.clear()
            self._script.clear()

    def wait_for(
        self, predicate: Callable[[list[ReceivedRequest]], bool], timeout: float = 10.0
    ) -> list[ReceivedRequest]:
        """Block until `predicate(requests)` holds; raise TimeoutError with what arrived."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self._requests):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self._requests)} requests, predicate not met")
                self._cond.wait(left)
            return list(self._requests)

    # -- the handler's side ------------------------------------------------------------------
    def _answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._cond:
            status = self._script.popleft() if self._script else 200
            request = ReceivedRequest(method, path, headers, body, status, time.time())
            self._requests.append(request)
            self._cond.notify_all()
        if self.log_dir is not None:
            line = {
                "at": request.received_at,
                "method": method,
                "path": path,
                "status": status,
                "body": body.decode("utf-8", "replace"),
            }
            with (self.log_dir / "requests.jsonl").open("a", encoding="utf-8") as out:
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
        return status


def _handler_for(sink: HttpSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: clients reuse their connections

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._reply(413, {"error": "body too large"})
                return
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = sink._answer(self.command, self.path, headers, body)
            self._reply(status, {"id": len(sink.requests)} if status < 300 else {"error": status})

        def _reply(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_PUT = do_GET = _serve  # http.server calls do_<METHOD>

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the sink records requests itself; stderr stays quiet

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.http_sink")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="serve in the foreground until interrupted")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8026)
    run.add_argument("--dir", type=Path, default=None, help="append requests.jsonl here")
    args = parser.parse_args(argv)
    stop_requested = stop_on_signals()
    with HttpSink(args.host, args.port, args.dir) as sink:
        print(f"HTTP sink on {sink.url}, saving to {args.dir}", flush=True)
        while not stop_requested.wait(1.0):  # a timed wait keeps signal handling prompt
            pass
    print("HTTP sink stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
