"""Spans leave the process over OTLP/HTTP when an endpoint is configured, and not otherwise.
Each case runs in a child process: the tracer provider is set once per process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
from shared.tracing import configure_tracing, flush_traces, tracer
provider = configure_tracing("export-test", "zj")
with tracer().start_as_current_span("work"):
    pass
flush_traces()
print(len(provider._active_span_processor._span_processors))
print(provider.resource.attributes["service.name"])
"""


class Receiver(ThreadingHTTPServer):
    posts: list[tuple[str, str, int]]


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        self.server.posts.append((self.path, self.headers.get("content-type", ""), len(body)))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(("127.0.0.1", 0), Handler)
    server.posts = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run(env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_spans_are_posted_to_the_configured_otlp_endpoint(receiver: Receiver) -> None:
    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}"
    processors, service = run({"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}).split()
    assert (processors, service) == ("1", "export-test")
    assert len(receiver.posts) >= 1
    path, content_type, size = receiver.posts[0]
    assert path == "/v1/traces"
    assert content_type == "application/x-protobuf"
    assert size > 0


def test_without_an_endpoint_no_exporter_is_installed() -> None:
    processors, _ = run({}).split()
    assert processors == "0"


def test_the_deployments_service_name_wins_over_the_services_own() -> None:
    _, service = run({"OTEL_SERVICE_NAME": "zj-enrollment"}).split()
    assert service == "zj-enrollment"
