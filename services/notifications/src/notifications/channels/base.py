"""What every channel's sender is given and promises."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from notifications.models import Recipient
from notifications.service.dispatching import Result
from notifications.templates import Rendered


@dataclass(frozen=True)
class Outgoing:
    """One delivery's message, ready to send."""

    delivery_id: str
    recipient: Recipient
    message: Rendered
    language: str  # zh or en
    at: datetime  # the injectable clock's now (e.g. the e-mail's Date)
    deadline: float  # time.monotonic(): not started later (the delivery's lease is nearly over)


class Sender(Protocol):
    async def send(self, outgoing: Outgoing) -> Result | None:
        """What the attempt came to; None when it was not started in time (the delivery is
        due again when its lease ends)."""

    async def close(self) -> None:
        """Close pooled connections (the dispatcher stops); a later send opens new ones."""
