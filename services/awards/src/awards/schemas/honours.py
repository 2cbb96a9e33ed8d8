"""HTTP models of the member's honours record and of their record of a year."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class HonourOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    record_id: str = Field(description="This member's entry of the honour.")
    honour_id: str = Field(description="The grant; a team's grant has one entry per member.")
    member_id: str
    home_org: str = Field(description="The member's home org when it was granted or arrived.")
    kind: str = Field(examples=["award", "reward", "proposal_reward", "stipend"])
    scheme_id: str | None
    scheme_kind: str | None = Field(examples=["model_worker"])
    title: str
    source_id: str = Field(description="The nomination, reward, proposal or stipend schedule.")
    granting_org: str
    team_name: str | None
    amount_fen: int = Field(description="Money paid with it, in fen (0.01 yuan).")
    benefits: list[str]
    reason: str
    year: int = Field(description="The round's or period's year, else the year granted.")
    granted_at: datetime
    ce_id: str = Field(description="`ce_id` of the HonourGranted event it was recorded from.")


class HonourTotalsOut(BaseModel):
    count: int = Field(description="Entries (a team's honour counts once per member).")
    amount_fen: int = Field(description="Money paid, in fen; a team's honour counted once.")


class HonourPage(BaseModel):
    items: list[HonourOut]
    next_cursor: str | None
    totals: HonourTotalsOut = Field(description="Everything the query covers, every page.")


class MemberRecordOut(BaseModel):
    member_id: str
    year: int = Field(description="Calendar year in the federation's time zone.")
    training_hours: float = Field(description="Hours credited by the year's completions.")
    hours_by_quality_area: dict[str, float]
    completions: int
    best_rank: int | None = Field(description="Best place in a contest or competition.")
    titles_held: list[str] = Field(description="Scheme kinds of the titles held (any year).")
