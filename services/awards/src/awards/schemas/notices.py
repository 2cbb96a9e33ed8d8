"""HTTP models of public notices of a round's shortlist and of the objections against them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from awards.domain.objections import ObjectionStatus
from shared.web.fields import Id, Reasons

MAX_SHORTLIST = 2000


class NoticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nomination_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_SHORTLIST)] = Field(
        description="The shortlist: nominations of the round in review with enough reviews."
    )

    @field_validator("nomination_ids")
    @classmethod
    def _once_each(cls, ids: list[str]) -> list[str]:
        return list(dict.fromkeys(ids))


class NoticeAcceptedOut(BaseModel):
    notice_id: str
    round_id: str
    scheme_id: str
    owner_org: str
    starts_at: datetime
    ends_at: datetime = Field(description="Objections are accepted until then.")
    nominations: int = Field(description="Shortlisted nominations, now on notice.")
    sent_to: list[str] = Field(
        description="The nodes hosting part of the owner's subtree, which show the notice to "
        "their members once it arrives (this node too)."
    )


class NoticeOut(BaseModel):
    notice_id: str
    round_id: str
    scheme_id: str
    scheme_title: str
    owner_org: str
    starts_at: datetime
    ends_at: datetime
    open: bool = Field(description="Objections are accepted (the notice period runs).")


class NomineeOut(BaseModel):
    member_id: str
    display_name: str


class NoticeEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    nomination_id: str
    home_org: str
    nominees: list[NomineeOut]
    team_name: str | None
    achievements: str


class NoticeDetailOut(NoticeOut):
    entries_total: int
    entries: list[NoticeEntryOut] = Field(description="A page of the shortlist, by nomination.")
    next_cursor: str | None = Field(description="The next page of entries (`cursor`).")


class NoticePage(BaseModel):
    items: list[NoticeOut]
    next_cursor: str | None


class ObjectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nomination_id: Id = Field(description="A nomination on the notice.")
    reasons: Reasons = Field(description="Why; required.")


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    upheld: bool = Field(description="True withdraws the nomination; false dismisses.")
    answer: Reasons = Field(description="The answer to the objector.")


class ObjectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    objection_id: str
    notice_id: str
    nomination_id: str
    owner_org: str
    objector_id: str = Field(description="The objecting member's pseudonymous id.")
    objector_org: str
    reasons: str
    status: ObjectionStatus
    answer: str | None
    submitted_at: datetime
    resolved_at: datetime | None


class ObjectionPage(BaseModel):
    items: list[ObjectionOut]
    next_cursor: str | None
