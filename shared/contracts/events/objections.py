"""An objection the scheme's owner closed without a step on its nomination: the objector's
home node learns the answer from this inbox message. (An objection the owner resolves is a
nomination step, `NominationObjectionResolved`, which the home node keeps like any other.)"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import Field

from shared.contracts.base import Event, register
from shared.contracts.events.common import OrgId


class ObjectionMessage(Event):
    """An inbox message about an objection: which one, against which nomination, between the
    scheme's owner and the objector's home org; keyed by the nomination, so that its messages
    stay in order. Each message declares these fields itself, where its locked schema has
    them (a field inherited from here would come first, and change the schema's order)."""

    if TYPE_CHECKING:
        objection_id: str
        nomination_id: str
        owner_org: str
        objector_org: str

    def subject(self) -> str:
        return self.objection_id

    def key(self) -> str:
        return self.nomination_id

    def orgs(self) -> list[str]:
        return [self.owner_org, self.objector_org]


@register
class ObjectionClosed(ObjectionMessage):
    """To the objector's home node inbox: the owner dismissed the objection as it arrived
    (filed after the notice period, or the nomination no longer on notice), with the answer."""

    ce_type = "bigschool.awards.objection_closed.v1"

    objection_id: str
    nomination_id: str
    owner_org: OrgId
    objector_org: OrgId
    answer: str = Field(max_length=4000)
    closed_at: datetime
