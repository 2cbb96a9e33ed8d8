"""HTTP request and response models (never the ORM models, never the event contracts)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class InboxItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    item_id: str
    event_type: str = Field(examples=["bigschool.enrollment.confirmed.v1"])
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None


class InboxPage(BaseModel):
    items: list[InboxItemOut] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
    unread: int = Field(description="Unread items in the whole inbox, not just this page.")


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempt: int
    at: datetime
    outcome: str = Field(examples=["sent", "skipped", "deferred", "failed"])
    error_type: str | None = Field(description="The error's type; never its message.")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    delivery_id: str
    ce_id: str = Field(description="The event this delivery tells about.")
    event_type: str
    member_id: str
    channel: str = Field(examples=["email", "inapp"])
    status: str = Field(examples=["pending", "sent", "skipped", "failed"])
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    log: list[AttemptOut] = Field(default_factory=list, description="Every attempt, in order.")
