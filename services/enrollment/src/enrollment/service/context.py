from __future__ import annotations

from dataclasses import dataclass

from enrollment.settings import EnrollmentSettings
from shared.clock import Clock
from shared.links import LinkSigner
from shared.messaging.outbox import Outbox
from shared.orgs.directory import OrgDirectory


@dataclass(frozen=True)
class Context:
    """What every use case needs besides the session."""

    settings: EnrollmentSettings
    outbox: Outbox
    orgs: OrgDirectory
    clock: Clock
    links: LinkSigner | None = None  # one-click links in e-mails (when a secret is set)

    @property
    def node_id(self) -> str:
        return self.settings.node_id
