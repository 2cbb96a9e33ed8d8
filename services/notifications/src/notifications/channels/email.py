"""E-mail as a channel: the Mailer's pooled SMTP connections, one message per delivery with a
`Message-ID` derived from the delivery id."""

from __future__ import annotations

import logging

from notifications.channels.base import Outgoing
from notifications.mailer import LeaseOver, Mailer, is_permanent
from notifications.service.dispatching import SENT, SKIPPED, Result, failed_with

log = logging.getLogger(__name__)


class EmailSender:
    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer

    async def send(self, outgoing: Outgoing) -> Result | None:
        if not outgoing.recipient.email:
            return SKIPPED
        try:
            mail = self.mailer.compose(
                delivery_id=outgoing.delivery_id,
                to=outgoing.recipient.email,
                message=outgoing.message,
                language=outgoing.language,
                at=outgoing.at,
            )
            await self.mailer.send(mail, deadline=outgoing.deadline)
        except LeaseOver:
            return None  # waited too long for a connection: due again when its lease ends
        except Exception as exc:  # whatever SMTP or the address did: log the type, not values
            error = type(exc).__name__
            log.warning("delivery %s: e-mail failed (%s)", outgoing.delivery_id, error)
            return failed_with(error, permanent=is_permanent(exc))
        return SENT

    async def close(self) -> None:
        await self.mailer.close()
