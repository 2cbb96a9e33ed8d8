"""Which orgs this node hosts, and whether an event concerns this node.

Every service keeps its own replica of the org tree from `org.registered` events (the
compacted federation topic). A node keeps an event when an org in its `bigschool_orgs`
header is hosted by this node or is an ancestor of the node's root org — decided from
the header alone. Lookups go through a bounded cache: a node never loads the tree.
"""

from __future__ import annotations

from collections import OrderedDict

from sqlalchemy import Column, MetaData, Select, String, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.clock import Clock, SystemClock
from shared.contracts.envelope import Envelope
from shared.contracts.events import OrgRegistered
from shared.db import Database, UTCDateTime, upsert
from shared.messaging.consumer import Rejected
from shared.messaging.holds import Held
from shared.orgs.authority import Org, refusal

__all__ = ["Org", "OrgDirectory", "UnknownOrg", "org_table"]


def org_table(metadata: MetaData) -> Table:
    return Table(
        "orgs",
        metadata,
        Column("org_id", String(64), primary_key=True),
        Column("name", String(200), nullable=False),
        Column("parent_id", String(64), nullable=True, index=True),
        Column("level", String(20), nullable=False),
        Column("hosted_by", String(64), nullable=False, index=True),
        Column("updated_at", UTCDateTime, nullable=False),
    )


class UnknownOrg(Held):
    """An org named in an event that this replica has not learnt yet: the tree may be
    catching up, so the message is held for a while (then dead-lettered as `unknown_org`)."""

    reason = "unknown_org"
    field = "bigschool_orgs"


class OrgDirectory:
    MAX_CACHED = 100_000
    MAX_DEPTH = 32

    def __init__(
        self, db: Database, table: Table, node_id: str, root_org: str, clock: Clock | None = None
    ) -> None:
        self.db = db
        self.table = table
        self.node_id = node_id
        self.root_org = root_org
        self.clock = clock or SystemClock()
        self._cache: OrderedDict[str, Org] = OrderedDict()
        self._root_ancestors: frozenset[str] | None = None

    async def get(self, org_id: str, session: AsyncSession | None = None) -> Org | None:
        if org_id in self._cache:
            self._cache.move_to_end(org_id)
            return self._cache[org_id]
        stmt = select(self.table).where(self.table.c.org_id == org_id)
        if session is not None:
            row = (await session.execute(stmt)).first()
        else:
            async with self.db.reading() as own:
                row = (await own.execute(stmt)).first()
        if row is None:
            return None
        org = Org(row.org_id, row.name, row.parent_id, row.level, row.hosted_by)
        self._remember(org)
        return org

    def _remember(self, org: Org) -> None:
        self._cache[org.org_id] = org
        self._cache.move_to_end(org.org_id)
        while len(self._cache) > self.MAX_CACHED:
            self._cache.popitem(last=False)

    async def ancestors(self, org_id: str, session: AsyncSession | None = None) -> list[str]:
        """Parent chain of `org_id`, nearest first. Raises UnknownOrg for a gap in the chain."""
        chain: list[str] = []
        org = await self.get(org_id, session)
        if org is None:
            raise UnknownOrg(org_id)
        while org.parent_id and len(chain) < self.MAX_DEPTH:
            chain.append(org.parent_id)
            parent = await self.get(org.parent_id, session)
            if parent is None:
                raise UnknownOrg(org.parent_id)
            org = parent
        return chain

    async def is_within(
        self, org_id: str, root_id: str, session: AsyncSession | None = None
    ) -> bool:
        """True when `org_id` is `root_id` or one of its descendants."""
        return org_id == root_id or root_id in await self.ancestors(org_id, session)

    async def hosts(self, org_id: str, session: AsyncSession | None = None) -> bool:
        org = await self.get(org_id, session)
        return org is not None and org.hosted_by == self.node_id

    async def relevant(self, orgs: tuple[str, ...]) -> bool:
        """The node filter on the `bigschool_orgs` header."""
        for org_id in orgs:
            org = await self.get(org_id)
            if org is None:
                raise UnknownOrg(org_id)
            if org.hosted_by == self.node_id:
                return True
            if org_id in await self._ancestors_of_root():
                return True
        return False

    async def relevant_below(self, orgs: tuple[str, ...]) -> bool:
        """The filter of what a node keeps of its subtrees (roll-up snapshots): an org in the
        header has an ancestor-or-self hosted by this node. UnknownOrg for an org (or a link
        of its parent chain) not replicated yet."""
        for org_id in orgs:
            for org in [org_id, *await self.ancestors(org_id)]:  # UnknownOrg: a gap
                if await self.hosts(org):
                    return True
        return False

    async def _ancestors_of_root(self) -> frozenset[str]:
        if self._root_ancestors is None:
            self._root_ancestors = frozenset(await self.ancestors(self.root_org))
        return self._root_ancestors

    async def top_org(self, session: AsyncSession | None = None) -> str | None:
        """The federation's top org (the one without a parent), if known here."""
        stmt = select(self.table.c.org_id).where(self.table.c.parent_id.is_(None)).limit(1)
        return await self._scalar(stmt, session)

    async def an_org_hosted_by(self, node: str, session: AsyncSession | None = None) -> str | None:
        """Any org `node` hosts, if it hosts one: tells whether a node was admitted already."""
        stmt = select(self.table.c.org_id).where(self.table.c.hosted_by == node).limit(1)
        return await self._scalar(stmt, session)

    async def nodes_within(self, org_id: str, session: AsyncSession) -> list[str]:
        """The nodes hosting part of `org_id`'s subtree (sorted): the node hosting `org_id`,
        and every node whose orgs lie below it. A node's orgs all lie under its root, so any
        one of them tells; the nodes come from one DISTINCT query (one row per node), never
        from the whole tree. UnknownOrg for a gap in a parent chain."""
        top = await self.get(org_id, session)
        if top is None:
            raise UnknownOrg(org_id)
        stmt = select(self.table.c.hosted_by).distinct()
        within: list[str] = []
        for node in sorted((await session.execute(stmt)).scalars()):
            if node == top.hosted_by:
                within.append(node)
                continue
            org = await self.an_org_hosted_by(node, session)
            if org is not None and await self.is_within(org, org_id, session):
                within.append(node)
        return within

    async def _scalar(self, stmt: Select[str], session: AsyncSession | None) -> str | None:
        if session is not None:
            return (await session.execute(stmt)).scalar_one_or_none()
        async with self.db.reading() as own:
            return (await own.execute(stmt)).scalar_one_or_none()

    async def refusal(self, session: AsyncSession, change: Org, writer: str) -> str | None:
        """Why `writer` may not write `change` (shared.orgs.authority), with the orgs it
        involves loaded from this replica; UnknownOrg when the new parent is not known yet."""
        current = await self.get(change.org_id, session)
        parent = await self.get(change.parent_id, session) if change.parent_id else None
        if change.parent_id and parent is None:
            raise UnknownOrg(change.parent_id)
        old_parent = None
        if current is not None and current.parent_id not in (None, change.parent_id):
            old_parent = await self.get(current.parent_id, session)
        return refusal(
            change,
            writer,
            current=current,
            parent=parent,
            old_parent=old_parent,
            parent_ancestors=(
                await self.ancestors(change.parent_id, session) if change.parent_id else []
            ),
            top_org=await self.top_org(session),
        )

    async def on_org_registered(
        self, session: AsyncSession, event: OrgRegistered, envelope: Envelope
    ) -> None:
        """Handler for the federation topic: the writing node (its signature was checked)
        must have the authority for the change; then upsert the org's full state."""
        change = Org(event.org_id, event.name, event.parent_id, event.level.value, event.hosted_by)
        reason = await self.refusal(session, change, envelope.node or "")
        if reason is not None:
            raise Rejected(f"unauthorised_org_change:{reason}", ["ce_source"])
        await self.apply(session, change)

    async def apply(self, session: AsyncSession, org: Org) -> None:
        """Write the org's full state into this replica (in the caller's transaction)."""
        await upsert(
            session,
            self.table,
            {
                "org_id": org.org_id,
                "name": org.name,
                "parent_id": org.parent_id,
                "level": org.level,
                "hosted_by": org.hosted_by,
                "updated_at": self.clock.now(),
            },
            ["org_id"],
        )
        self._remember(org)
        self._root_ancestors = None  # a move in the tree may change the root's chain
