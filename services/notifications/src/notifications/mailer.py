"""E-mail over SMTP (aiosmtplib): one plain-text UTF-8 message per delivery, sent over a small
pool of connections that stay open.

The `Message-ID` is derived from the delivery id, so when a crash between sending and
marking the row `sent` causes a resend, mail systems and readers see the same message.

A new connection costs more than a message (connect, EHLO, maybe STARTTLS and login, QUIT),
so up to `smtp_connections` are kept open and each carries many messages; at most that many
messages are in flight. A connection the server dropped (SMTPServerDisconnected, or a 421
"closing channel") is replaced and that one message is sent once more on a fresh connection;
one unused for `smtp_idle_seconds` is checked with NOOP first (replaced if that fails).
`close()` quits them all when the dispatcher stops.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from email.charset import Charset
from email.header import Header
from email.message import Message
from email.utils import format_datetime, formataddr, parseaddr

import aiosmtplib
from aiosmtplib.errors import (
    SMTPDataError,
    SMTPRecipientRefused,
    SMTPRecipientsRefused,
    SMTPResponseException,
    SMTPServerDisconnected,
)

from notifications.domain.deliveries import message_id
from notifications.settings import NotificationsSettings
from notifications.templates import Rendered

# Reply code of a server that is closing the channel (RFC 5321 4.2.3), e.g. its idle timeout.
CLOSING_CHANNEL = 421
# Quitting politely on shutdown must not hold the service's stop up for long.
QUIT_SECONDS = 2.0
# Longest line SMTP carries (RFC 5321 4.5.3.1.6); a body with a longer one goes as base64.
MAX_LINE_OCTETS = 998
# UTF-8 text as it is, 8-bit (aiosmtplib re-encodes it as base64 for a server without 8BITMIME).
UTF8_8BIT = Charset("utf-8")
UTF8_8BIT.body_encoding = None  # type: ignore[assignment]  # typeshed: int; None = as it is


class LeaseOver(Exception):
    """The delivery's lease was (nearly) over before its message could start: not sent, so
    that no other dispatcher can be sending it at the same time. It is due again later."""


@dataclass
class _Connection:
    client: aiosmtplib.SMTP
    last_used: float


class Mailer:
    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings
        self._slots = asyncio.Semaphore(settings.smtp_connections)
        self._idle: list[_Connection] = []  # most recently used last: it is taken first
        self._busy = 0  # connections carrying a message right now
        self.connections_opened = 0
        name, address = parseaddr(settings.smtp_from)
        # A display name that is not ASCII goes as an RFC 2047 encoded word.
        self._from = formataddr((name, address), charset="utf-8") if address else ""

    def compose(
        self, *, delivery_id: str, to: str, message: Rendered, language: str, at: datetime
    ) -> Message:
        """Built with the plain (compat32) message classes: EmailMessage parses every header
        it is given, which cost more CPU (~1.6 ms) than the rest of a delivery together.
        Header values are refused when they hold a line break, as EmailMessage does."""
        longest = max((len(line.encode()) for line in message.body.splitlines()), default=0)
        mail = Message()  # set_payload adds MIME-Version, Content-Type and its encoding
        mail.set_payload(message.body, UTF8_8BIT if longest <= MAX_LINE_OCTETS else "utf-8")
        mail["Message-ID"] = message_id(delivery_id, self.settings.node_id)
        mail["Date"] = format_datetime(at)
        mail["From"] = self._from or _one_line(self.settings.smtp_from)
        mail["To"] = _one_line(to)
        subject = _one_line(message.subject)
        if not subject.isascii():  # RFC 2047 encoded words, folded after "Subject: "
            subject = Header(subject, "utf-8", header_name="Subject").encode()
        mail["Subject"] = subject
        mail["Content-Language"] = language
        # RFC 3834: tells auto-responders (out-of-office) not to answer.
        mail["Auto-Submitted"] = "auto-generated"
        return mail

    async def send(self, mail: Message, *, deadline: float | None = None) -> None:
        """Send `mail` over a pooled connection. `deadline` (time.monotonic()): the message is
        not started after it (LeaseOver), not even the resend after a dropped connection."""
        async with self._slots:
            try:
                await self._send_on(await self._checkout(deadline), mail)
            except (SMTPServerDisconnected, SMTPResponseException) as exc:
                if not _dropped(exc):
                    raise
                # The server dropped the connection (restart, idle timeout): this one message
                # once more, on a new connection. It may have arrived already: same Message-ID.
                await self._send_on(await self._checkout(deadline, reuse=False), mail)

    async def close(self) -> None:
        """Quit every open connection (on shutdown); the pool opens new ones if used again."""
        idle, self._idle = self._idle, []
        await asyncio.gather(*(_quit(connection.client) for connection in idle))

    @property
    def open_connections(self) -> int:
        return self._busy + sum(1 for c in self._idle if c.client.is_connected)

    async def _checkout(self, deadline: float | None, *, reuse: bool = True) -> _Connection:
        if deadline is not None and time.monotonic() > deadline:
            raise LeaseOver
        while reuse and self._idle:
            connection = self._idle.pop()
            if not connection.client.is_connected:
                continue  # the server closed it while it was idle
            if time.monotonic() - connection.last_used > self.settings.smtp_idle_seconds:
                try:
                    await connection.client.noop()
                except BaseException as exc:
                    connection.client.close()
                    if not isinstance(exc, Exception):
                        raise  # cancelled
                    continue  # gone stale (timeout, 421, reset): a new one instead
            return connection
        return await self._connect()

    async def _connect(self) -> _Connection:
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            start_tls=s.smtp_starttls,
            timeout=s.smtp_timeout_seconds,
        )
        await client.connect()  # EHLO, STARTTLS and login as configured
        self.connections_opened += 1
        return _Connection(client, time.monotonic())

    async def _send_on(self, connection: _Connection, mail: Message) -> None:
        self._busy += 1
        try:
            await connection.client.send_message(mail)
        except (SMTPResponseException, SMTPRecipientsRefused):
            # The server answered (and aiosmtplib reset the envelope): the connection is fine
            # unless the answer closed it.
            self._release(connection)
            raise
        except BaseException:  # timeout, drop, cancellation: the protocol state is unknown
            connection.client.close()
            raise
        else:
            self._release(connection)
        finally:
            self._busy -= 1

    def _release(self, connection: _Connection) -> None:
        if connection.client.is_connected:
            connection.last_used = time.monotonic()
            self._idle.append(connection)


def _one_line(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError("a header value holds a line break")
    return value


def _dropped(exc: BaseException) -> bool:
    if isinstance(exc, SMTPServerDisconnected):
        return True
    return isinstance(exc, SMTPResponseException) and exc.code == CLOSING_CHANNEL


async def _quit(client: aiosmtplib.SMTP) -> None:
    with suppress(Exception):
        await client.quit(timeout=QUIT_SECONDS)
    client.close()


def is_permanent(exc: BaseException) -> bool:
    """A 5xx about the recipient or the message will not change by retrying. A 5xx about our
    login or sender address is a configuration fault: retried, so a fix lets the mail through."""
    if isinstance(exc, SMTPRecipientsRefused):
        return bool(exc.recipients) and all(r.code >= 500 for r in exc.recipients)
    if isinstance(exc, SMTPRecipientRefused | SMTPDataError):
        return exc.code >= 500
    return False
