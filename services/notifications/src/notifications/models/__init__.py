"""SQLAlchemy tables of the notifications service, one module per feature; importing this
package registers every table on `Base.metadata` (migrations and tests rely on it)."""

from notifications.models.base import IDEMPOTENCY_KEYS, MESSAGING, ORGS, Base
from notifications.models.catalogue import Programme, Reminder, Scheme, Seat
from notifications.models.deliveries import Delivery, DeliveryAttempt
from notifications.models.fanout import FanoutJob
from notifications.models.inbox import InboxItem, InboxSequence
from notifications.models.preferences import MemberPreference, OrgPolicy
from notifications.models.recipients import Recipient
from notifications.models.staff import StaffDuty, StaffMember
from notifications.models.templates import TemplateOverride
from notifications.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookSubscription

__all__ = [
    "IDEMPOTENCY_KEYS",
    "MESSAGING",
    "ORGS",
    "Base",
    "Delivery",
    "DeliveryAttempt",
    "FanoutJob",
    "InboxItem",
    "InboxSequence",
    "MemberPreference",
    "OrgPolicy",
    "Programme",
    "Recipient",
    "Reminder",
    "Scheme",
    "Seat",
    "StaffDuty",
    "StaffMember",
    "TemplateOverride",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]
