"""Who may change the org tree — one rule, applied where a change is made (the enrollment
API) and again by every service of every node that replicates it (the federation topic):

- an org is registered or changed by the node that hosts its parent (its parent's admins
  act there); that is also how a node is admitted: the parent's node registers the new
  node's root with `hosted_by` naming the new node;
- the federation's top org (no parent) is registered by its own node, and there is one;
- an org moves under another parent only by a node that hosts both the old and the new
  parent, and never under itself or its own subtree (a cycle);
- levels nest: superiors under superiors, enterprises under a superior, grassroots unions
  under an enterprise or a superior.

Pure Python: the caller loads the orgs involved and passes them in.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.contracts.events import OrgLevel

# Which level may sit under which (None: no parent, the top org).
ALLOWED_PARENTS: dict[OrgLevel, set[OrgLevel | None]] = {
    OrgLevel.superior: {None, OrgLevel.superior},
    OrgLevel.enterprise: {OrgLevel.superior},
    OrgLevel.grassroots: {OrgLevel.enterprise, OrgLevel.superior},
}


@dataclass(frozen=True)
class Org:
    org_id: str
    name: str
    parent_id: str | None
    level: str
    hosted_by: str


def parent_allowed(level: OrgLevel, parent_level: OrgLevel | None) -> bool:
    return parent_level in ALLOWED_PARENTS[level]


def refusal(
    change: Org,
    writer: str,
    *,
    current: Org | None,
    parent: Org | None,
    old_parent: Org | None,
    parent_ancestors: list[str],
    top_org: str | None,
) -> str | None:
    """Why node `writer` may not write `change` (the org's new full state), or None.

    `current` is the org as known now, `parent` its new parent, `old_parent` its parent
    before a move, `parent_ancestors` the new parent's ancestors, `top_org` the federation's
    top org if known."""
    if change.parent_id is not None and (
        change.parent_id == change.org_id or change.org_id in parent_ancestors
    ):
        return "cycle"
    parent_level = OrgLevel(parent.level) if parent else None
    if not parent_allowed(OrgLevel(change.level), parent_level):
        return "level_not_allowed_under_parent"
    if change.parent_id is None:
        if change.hosted_by != writer:
            return "top_org_not_hosted_by_writer"
        if top_org is not None and top_org != change.org_id:
            return "second_top_org"
        if current is not None and current.hosted_by != writer:
            return "top_org_of_another_node"
        return None
    if parent is None:
        return "unknown_parent"
    if parent.hosted_by != writer:
        return "parent_not_hosted_by_writer"
    if current is not None and current.parent_id != change.parent_id:
        if current.parent_id is None:
            return "top_org_cannot_move"
        if old_parent is None or old_parent.hosted_by != writer:
            return "old_parent_not_hosted_by_writer"
    return None
