"""HTTP models of the member replica as cadres pick from it (no contact data: there is none)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class OrgMemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    member_id: str
    home_org: str
    display_name: str


class OrgMemberPage(BaseModel):
    items: list[OrgMemberOut]
    next_cursor: str | None
