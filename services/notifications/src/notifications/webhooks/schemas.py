"""HTTP request and response models of the webhook API."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from notifications.webhooks.domain import is_pattern, matches
from notifications.webhooks.planning import webhook_event_types
from shared.web.fields import DisplayText, OrgId, UtcInstant

TYPE_EXAMPLES = ["bigschool.enrollment.*", "bigschool.awards.honour_granted.v1"]


@cache
def _subscribable() -> tuple[str, ...]:
    return tuple(model.ce_type for model in webhook_event_types())


def _event_type(value: str) -> str:
    if not is_pattern(value):
        raise PydanticCustomError(
            "event_type_pattern", "an event type, or a prefix ending in `.*`, or `*`"
        )
    if not any(matches(value, t) for t in _subscribable()):
        raise PydanticCustomError(
            "unknown_event_type", "no event type a webhook can receive matches this"
        )
    return value


def _url(value: str) -> str:
    if value != value.strip() or any(c.isspace() for c in value):
        raise PydanticCustomError("url_whitespace", "the URL contains white space")
    return value


EventType = Annotated[str, StringConstraints(max_length=200), AfterValidator(_event_type)]
Url = Annotated[str, StringConstraints(min_length=1, max_length=2000), AfterValidator(_url)]
Description = Annotated[DisplayText, StringConstraints(max_length=500)]


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url = Field(examples=["https://integrator.example.org/bigschool"])
    event_types: list[EventType] = Field(min_length=1, max_length=50, examples=[TYPE_EXAMPLES])
    orgs: list[OrgId] = Field(
        default_factory=list,
        max_length=20,
        description="Subtree roots: only events involving an org within one of them. Empty: "
        "every event this node keeps.",
    )
    description: Description | None = None


class SubscriptionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    event_types: list[EventType] | None = Field(None, min_length=1, max_length=50)
    orgs: list[OrgId] | None = Field(None, max_length=20)
    description: Description | None = None


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    subscription_id: str
    url: str
    description: str | None
    event_types: list[str]
    orgs: list[str]
    status: str = Field(examples=["active", "disabled"])
    failing_since: datetime | None = Field(description="Every attempt failed since then.")
    disabled_at: datetime | None
    previous_secret_until: datetime | None = Field(
        description="Until then the previous secret signs too (after a rotation)."
    )
    created_by_org: str
    created_at: datetime
    updated_at: datetime


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="The signing secret (`whsec_…`): shown this once only.")


class SecretOut(BaseModel):
    subscription_id: str
    secret: str = Field(description="The new signing secret: shown this once only.")
    previous_secret_until: datetime | None = Field(
        description="The previous secret keeps signing (beside the new one) until then."
    )


class SubscriptionPage(BaseModel):
    items: list[SubscriptionOut] = Field(description="Newest first.")
    next_cursor: str | None


class WebhookAttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempt: int
    at: datetime
    outcome: str = Field(examples=["sent", "deferred", "failed"])
    status_code: int | None = Field(description="The receiver's answer, if any.")
    error_type: str | None = Field(description="The error's type (no answer); never a body.")
    duration_ms: int


class WebhookDeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    delivery_id: str = Field(description="The `webhook-id` header: the same on every retry.")
    ce_id: str
    event_type: str
    status: str = Field(examples=["pending", "sent", "failed"])
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    log: list[WebhookAttemptOut] = Field(default_factory=list)


class DeliveryPage(BaseModel):
    items: list[WebhookDeliveryOut] = Field(description="Newest first.")
    next_cursor: str | None


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    since: UtcInstant = Field(alias="from", description="Deliveries logged from this time…")
    until: UtcInstant = Field(alias="to", description="…up to (not including) this one.")


class ReplayOut(BaseModel):
    requeued: int = Field(description="Deliveries pending again, with their webhook-ids.")
