"""E-mail over SMTP (aiosmtplib): one plain-text UTF-8 message per delivery.

The `Message-ID` is derived from the delivery id, so when a crash between sending and
marking the row `sent` causes a resend, mail systems and readers see the same message.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib
from aiosmtplib.errors import SMTPDataError, SMTPRecipientRefused, SMTPRecipientsRefused

from notifications.domain.deliveries import message_id
from notifications.settings import NotificationsSettings
from notifications.templates import Rendered


class Mailer:
    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings

    def compose(
        self, *, delivery_id: str, to: str, message: Rendered, language: str, at: datetime
    ) -> EmailMessage:
        mail = EmailMessage()
        mail["Message-ID"] = message_id(delivery_id, self.settings.node_id)
        mail["Date"] = format_datetime(at)
        mail["From"] = self.settings.smtp_from
        mail["To"] = to
        mail["Subject"] = message.subject
        mail["Content-Language"] = language
        # RFC 3834: tells auto-responders (out-of-office) not to answer.
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(message.body, charset="utf-8")
        return mail

    async def send(self, mail: EmailMessage) -> None:
        s = self.settings
        await aiosmtplib.send(
            mail,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            start_tls=s.smtp_starttls,
            timeout=s.smtp_timeout_seconds,
        )


def is_permanent(exc: BaseException) -> bool:
    """A 5xx about the recipient or the message will not change by retrying. A 5xx about our
    login or sender address is a configuration fault: retried, so a fix lets the mail through."""
    if isinstance(exc, SMTPRecipientsRefused):
        return bool(exc.recipients) and all(r.code >= 500 for r in exc.recipients)
    if isinstance(exc, SMTPRecipientRefused | SMTPDataError):
        return exc.code >= 500
    return False
