from __future__ import annotations

from dataclasses import dataclass

from awards.settings import AwardsSettings
from shared.clock import Clock
from shared.messaging.outbox import Outbox
from shared.orgs.directory import OrgDirectory


@dataclass(frozen=True)
class Context:
    """What every use case needs besides the session."""

    settings: AwardsSettings
    outbox: Outbox
    orgs: OrgDirectory
    clock: Clock

    @property
    def node_id(self) -> str:
        return self.settings.node_id
