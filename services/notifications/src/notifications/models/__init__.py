"""SQLAlchemy tables of the notifications service, one module per feature; importing this
package registers every table on `Base.metadata` (migrations and tests rely on it)."""

from notifications.models.base import IDEMPOTENCY_KEYS, MESSAGING, ORGS, Base
from notifications.models.deliveries import Delivery, DeliveryAttempt
from notifications.models.inbox import InboxItem
from notifications.models.recipients import Recipient

__all__ = [
    "IDEMPOTENCY_KEYS",
    "MESSAGING",
    "ORGS",
    "Base",
    "Delivery",
    "DeliveryAttempt",
    "InboxItem",
    "Recipient",
]
