"""HTTP request and response models (never the ORM models, never the event contracts)."""

from __future__ import annotations

from datetime import datetime

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from shared.web.fields import DisplayText, ParagraphText


class InboxItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    item_id: str
    event_type: str = Field(examples=["bigschool.enrollment.confirmed.v1"])
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None
    position: int = Field(  # type: ignore[pydantic-alias]  # a choice of names: fine here
        validation_alias=AliasChoices("position", "seq"),  # the ORM column is `seq`
        description="The item's place in the inbox: the live stream's event id. Connect to "
        "/inbox/stream with `after` = the largest position already shown to miss nothing.",
    )


class InboxPage(BaseModel):
    items: list[InboxItemOut] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
    unread: int = Field(description="Unread items in the whole inbox, not just this page.")


class UnreadOut(BaseModel):
    unread: int = Field(description="Unread items in the caller's inbox.")


class ReadAllOut(BaseModel):
    marked: int = Field(description="Items that were unread and are now read.")


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempt: int
    at: datetime
    outcome: str = Field(examples=["sent", "skipped", "deferred", "failed", "retried"])
    error_type: str | None = Field(description="The error's type; never its message.")
    fallback_to: str | None = Field(
        None, description="This attempt gave up; the notice fell back to this delivery."
    )


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    delivery_id: str
    ce_id: str = Field(description="The event this delivery tells about.")
    event_type: str
    member_id: str
    home_org: str | None = Field(description="The recipient's home org when it was planned.")
    channel: str = Field(examples=["email", "inapp"])
    status: str = Field(examples=["pending", "sent", "skipped", "failed"])
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    fallback_of: str | None = Field(
        None, description="Planned because this delivery, on another channel, gave up."
    )
    log: list[AttemptOut] = Field(default_factory=list, description="Every attempt, in order.")


class DeliveryPage(BaseModel):
    items: list[DeliveryOut] = Field(description="Newest first, each with its attempt log.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class FanoutOut(BaseModel):
    """How far telling this node's members of a public notice has come."""

    model_config = ConfigDict(from_attributes=True)

    notice_id: str
    owner_org: str
    status: str = Field(examples=["expanding", "done"])
    recipients: int = Field(description="Members of the subtree hosted here planned so far.")
    deliveries: int = Field(description="Deliveries (one per member and channel) planned so far.")
    batches: int = Field(description="Batches committed so far (each saves the progress).")
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = Field(description="When the last member was planned.")


class TemplateIn(BaseModel):
    """An org's wording of one template in one language. Placeholders are plain `{field}`s
    that the template's event type is given; `{{` and `}}` are literal braces."""

    subject: DisplayText = Field(max_length=200, description="The e-mail's subject.")
    title: DisplayText = Field(max_length=300, description="The in-app title (and the SMS's).")
    body: ParagraphText = Field(max_length=4000, description="Plain text of every channel.")


class TemplateOut(BaseModel):
    template_key: str = Field(
        description="The event type, or `<event type>:<variant>` (e.g. an honour's kind).",
        examples=["bigschool.enrollment.confirmed.v1"],
    )
    language: str = Field(examples=["zh", "en"])
    source: str = Field(
        description="`org`: this org's override; `inherited`: an ancestor org's; "
        "`default`: the built-in template.",
        examples=["org", "inherited", "default"],
    )
    org_id: str | None = Field(description="The org whose override this is.")
    subject: str
    title: str
    body: str


class TemplateList(BaseModel):
    items: list[TemplateOut] = Field(
        description="Every template and language (a list bounded by the templates there "
        "are), by key."
    )
