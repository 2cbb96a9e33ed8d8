"""The org-tree consumer every service runs: it keeps the service's replica of the tree."""

from __future__ import annotations

from shared.contracts import topics
from shared.contracts.events import OrgRegistered
from shared.messaging.consumer import ConsumerSpec
from shared.orgs.directory import OrgDirectory
from shared.settings import ServiceSettings


def org_tree_consumer(settings: ServiceSettings, directory: OrgDirectory) -> ConsumerSpec:
    """`org.registered` events from the compacted federation topic, upserted into `directory`."""
    return ConsumerSpec(
        name="org_tree",
        topics=[topics.FEDERATION],
        group_id=settings.group_id("org_tree"),
        routes={OrgRegistered: directory.on_org_registered},
        description="Replicates the federation's org tree.",
    )
