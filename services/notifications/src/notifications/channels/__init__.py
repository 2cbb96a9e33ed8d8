"""The channels the dispatcher sends over, behind one small interface: given a rendered
message for one recipient, send it once (with an id derived from the delivery, so a resend
is recognisable) and say what the attempt came to. In-app needs no sending (the inbox item
is written when the attempt is recorded), so it has no sender here."""

from __future__ import annotations

from notifications.channels.base import Outgoing, Sender
from notifications.channels.email import EmailSender
from notifications.channels.sms import SmsSender
from notifications.domain.deliveries import Channel
from notifications.mailer import Mailer
from notifications.settings import NotificationsSettings

__all__ = ["EmailSender", "Outgoing", "Sender", "SmsSender", "senders"]


def senders(settings: NotificationsSettings, mailer: Mailer) -> dict[str, Sender]:
    """A sender per channel that is sent over, by channel name."""
    return {Channel.email.value: EmailSender(mailer), Channel.sms.value: SmsSender(settings)}
