"""The org tree: full-state events on the compacted federation topic, keyed by org id."""

from __future__ import annotations

from pydantic import Field

from shared.contracts.base import Event, register
from shared.contracts.events.common import OrgId, OrgLevel


@register
class OrgRegistered(Event):
    """Full state of an org (compacted topic, keyed by org id): the org tree replicates from it."""

    ce_type = "bigschool.org.registered.v1"
    signed = True

    org_id: OrgId = Field(description="Short slug, e.g. `hzsteel-rolling`.")
    name: str
    parent_id: OrgId | None = Field(None, description="None only for the federation's top org.")
    level: OrgLevel
    hosted_by: str = Field(description="Id of the node that hosts this org.")

    def subject(self) -> str:
        return self.org_id

    def orgs(self) -> list[str]:
        return [self.org_id]
