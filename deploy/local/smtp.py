"""A real SMTP server that accepts every message and keeps it, for tests and the demo.

Messages are parsed and kept in memory (``SmtpSink.messages``) and, with ``mail_dir``, also
written there as ``.eml`` files so the demo's mail can be opened in any mail client.

    python -m deploy.local.smtp run --port 8025 --dir .data/mail
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from deploy.local.foreground import stop_on_signals
from deploy.local.ports import free_port

__all__ = ["ReceivedMail", "SmtpSink", "main"]


@dataclass(frozen=True)
class ReceivedMail:
    """One message as delivered: SMTP envelope plus the parsed RFC 5322 message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes
    received_at: float

    @property
    def message_id(self) -> str | None:
        value = self.message.get("Message-ID")
        return str(value).strip() if value is not None else None

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))


def _accept_any_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    # A sink, not a relay: whatever credentials the service is configured with are fine.
    return AuthResult(success=True)


class _QuietSession(Session):
    # aiosmtpd 1.4 itself assigns the deprecated Session.login_data after every successful AUTH,
    # which would emit a DeprecationWarning per login into the test output; store it silently.
    @property
    def login_data(self) -> Any:
        return self._login_data

    @login_data.setter
    def login_data(self, value: Any) -> None:
        self._login_data = value


class _SinkSMTP(SMTP):
    def _create_session(self) -> Session:
        return _QuietSession(self.loop)


class _SinkController(Controller):
    def factory(self) -> SMTP:  # the documented customisation hook
        return _SinkSMTP(self.handler, **self.SMTP_kwargs)


class SmtpSink:
    """SMTP server on ``host:port`` (port 0 = pick a free one) running in a background thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        mail_dir: Path | None = None,
        on_message: Callable[[ReceivedMail], None] | None = None,
    ) -> None:
        self.host = host
        # aiosmtpd's Controller connects to its own port to check readiness, so it needs the
        # real number up front: resolve "0" here rather than letting the OS pick at bind time.
        self.port = port or free_port(host)
        self.mail_dir = Path(mail_dir) if mail_dir is not None else None
        self._on_message = on_message
        self._messages: list[ReceivedMail] = []
        self._cond = threading.Condition()
        self._controller: _SinkController | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        if self._controller is not None:
            return self
        if self.mail_dir is not None:
            self.mail_dir.mkdir(parents=True, exist_ok=True)
        controller = _SinkController(
            self,  # handle_DATA below
            hostname=self.host,
            port=self.port,
            # Advertise AUTH over plain TCP and accept any login, so services configured with
            # SMTP credentials work against the sink too.
            auth_require_tls=False,
            authenticator=_accept_any_login,
        )
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- inspection --------------------------------------------------------------------------

    @property
    def messages(self) -> list[ReceivedMail]:
        """A snapshot (copy) of everything received so far, in arrival order."""
        with self._cond:
            return list(self._messages)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        """Block until at least ``count`` messages arrived; raise TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"expected {count} messages, got {len(self._messages)} in {timeout} s"
                    )
                self._cond.wait(remaining)
            return list(self._messages)

    def clear(self) -> None:
        with self._cond:
            self._messages.clear()

    # -- aiosmtpd handler hook ---------------------------------------------------------------

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)  # guaranteed by policy.default
        mail = ReceivedMail(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            message=parsed,
            raw=raw,
            received_at=time.time(),
        )
        if self.mail_dir is not None:
            self._write_eml(mail)
        with self._cond:
            self._messages.append(mail)
            self._cond.notify_all()
        if self._on_message is not None:
            self._on_message(mail)
        return "250 Message accepted for delivery"

    def _write_eml(self, mail: ReceivedMail) -> None:
        assert self.mail_dir is not None
        stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime(mail.received_at))
        path = self.mail_dir / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        # Like a delivery agent, record the envelope on top (it is not part of the message).
        envelope_headers = (
            f"X-Envelope-From: <{mail.mail_from}>\r\n"
            f"X-Envelope-To: {', '.join(f'<{r}>' for r in mail.rcpt_tos)}\r\n"
        ).encode()
        # Write then rename, so a reader never sees a half-written file.
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(envelope_headers + mail.raw)
        os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.smtp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the sink in the foreground until Ctrl-C / SIGTERM")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8025)
    run.add_argument("--dir", type=Path, default=Path(".data/mail"), help="where .eml files go")
    args = parser.parse_args(argv)

    stop_requested = stop_on_signals()

    def report(mail: ReceivedMail) -> None:
        print(f"{mail.mail_from} -> {', '.join(mail.rcpt_tos)}: {mail.subject}", flush=True)

    with SmtpSink(args.host, args.port, mail_dir=args.dir, on_message=report) as sink:
        print(f"SMTP sink on {sink.host}:{sink.port}, saving to {args.dir}", flush=True)
        while not stop_requested.wait(1.0):  # a timed wait keeps signal handling prompt
            pass
    print("SMTP sink stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
