from __future__ import annotations

from dataclasses import dataclass

from notifications.settings import NotificationsSettings
from shared.clock import Clock
from shared.orgs.directory import OrgDirectory


@dataclass(frozen=True)
class Context:
    """What every use case needs besides the session."""

    settings: NotificationsSettings
    orgs: OrgDirectory
    clock: Clock

    @property
    def node_id(self) -> str:
        return self.settings.node_id
