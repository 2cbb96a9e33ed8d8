"""Public notices of a round's shortlist, published by the scheme's owner and shown to the
members of its subtree for the notice period (SPEC §3).

The owner's cadre shortlists nominations in review that have enough reviews: each takes the
step `NominationShortlisted` (on notice until `now + notice_days`), and the shortlist with the
nominees' display names goes as `NoticePublished` to the inbox of every node hosting part of
the owner's subtree — this node too, so a notice is stored by one code path everywhere. Names
travel only in those inbox messages (ownership rule 3), never on a federation topic.

Who sees a notice: anyone whose org (a member's home org) is the owner org or below it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from awards import member_repository, nomination_repository
from awards import notice_repository as repo
from awards.domain.nominations import StepRefused, shortlist
from awards.domain.objections import notice_ends
from awards.errors import Conflict, NotFound, Unprocessable
from awards.models import Dossier, Nomination, Notice, NoticeEntry, Round, Scheme
from awards.notice_repository import Position
from awards.service.context import Context
from awards.service.nomination_steps import state_of, take_step
from awards.service.schemes import require_owner_cadre, visible_scheme
from shared.auth import Principal
from shared.contracts import topics
from shared.contracts.envelope import Envelope
from shared.contracts.events import NominationShortlisted, Nominee, NoticePublished
from shared.contracts.events import NoticeEntry as Entry
from shared.messaging.consumer import Rejected
from shared.orgs.directory import UnknownOrg

# A message must fit the broker's limit (1 MB by default) with its headers: a long shortlist
# goes in several messages naming the same notice, which receivers store once.
NOTICE_BYTES = 512 * 1024
# Nominations loaded at a time: a shortlist may hold 2,000, each with its dossier.
BATCH = 200


@dataclass(frozen=True)
class Published:
    notice_id: str
    round_id: str
    scheme_id: str
    owner_org: str
    starts_at: datetime
    ends_at: datetime
    nominations: int
    sent_to: list[str]


async def owner_round(
    session: AsyncSession, ctx: Context, who: Principal, round_id: str, what: str
) -> tuple[Round, Scheme]:
    """The round and its scheme, for a cadre of the owner org at the owner's node: 404 for
    those who may not see the scheme, 403 for the others who may."""
    found = await nomination_repository.get_round(session, round_id)
    if found is None:
        raise NotFound(f"no round {round_id} here", field="round_id")
    scheme = await visible_scheme(session, ctx, who, found.scheme_id)
    require_owner_cadre(who, scheme, what)
    return found, scheme


async def _check_shortlist(
    session: AsyncSession, round_id: str, min_reviews: int, nomination_ids: Sequence[str]
) -> None:
    """Every nomination is of the round, in review, with enough reviews; its row locked."""
    for start in range(0, len(nomination_ids), BATCH):
        batch = nomination_ids[start : start + BATCH]
        found = {row[0]: row for row in await repo.shortlist_checks(session, batch)}
        for nomination_id in batch:
            row = found.get(nomination_id)
            if row is None or row[1] != round_id:
                raise Unprocessable(
                    f"nomination_ids: {nomination_id} is not a nomination of round {round_id}"
                )
            _, _, status, reviews = row
            if status != "in_review":
                raise Conflict(f"nomination_ids: {nomination_id} is {status}, not in_review")
            if reviews < min_reviews:
                raise Conflict(
                    f"nomination_ids: {nomination_id} has {reviews} review(s); {min_reviews} needed"
                )


@dataclass
class _Shortlist:
    """Puts nominations on the notice, and sends its entries a message's worth at a time to
    every node."""

    session: AsyncSession
    ctx: Context
    who: Principal
    notice: dict[str, Any]
    nodes: list[str]
    entries: list[Entry] = field(default_factory=list)
    size: int = 0

    async def take(self, row: Nomination, dossier: Dossier | None) -> None:
        if dossier is None:
            raise Conflict(f"nomination_ids: no dossier of {row.nomination_id} arrived here")
        try:
            state = shortlist(state_of(row), self.notice["ends_at"])
        except StepRefused as refused:
            raise Conflict(f"nomination_ids: {row.nomination_id}: {refused}") from None
        await take_step(
            self.session, self.ctx, row, NominationShortlisted, state,
            actor=self.who.sub, actor_org=self.who.org, notice_id=self.notice["notice_id"],
        )  # fmt: skip
        await self.add(_entry(row, dossier))

    async def add(self, entry: Entry) -> None:
        size = len(entry.model_dump_json().encode())
        if self.entries and self.size + size > NOTICE_BYTES:
            await self.flush()
        self.entries.append(entry)
        self.size += size

    async def flush(self) -> None:
        if not self.entries:
            return
        event = NoticePublished.model_validate({**self.notice, "entries": self.entries})
        for node in self.nodes:
            await self.ctx.outbox.stage(self.session, event, topic=topics.inbox(node))
        self.entries, self.size = [], 0


def _entry(row: Nomination, dossier: Dossier) -> Entry:
    return Entry(
        nomination_id=row.nomination_id,
        home_org=row.home_org,
        nominees=[Nominee.model_validate(n) for n in dossier.nominees],
        team_name=dossier.team_name or row.team_name,
        achievements=dossier.achievements,
    )


async def publish_notice(
    session: AsyncSession, ctx: Context, who: Principal, round_id: str, nomination_ids: list[str]
) -> Published:
    """Shortlist the nominations (all or none: 409 naming the first that may not be) and send
    the notice to every node of the owner's subtree."""
    found, scheme = await owner_round(session, ctx, who, round_id, "publish its notices")
    await _check_shortlist(session, round_id, scheme.min_reviews, nomination_ids)
    starts_at = ctx.clock.now()
    ends_at = notice_ends(starts_at, scheme.notice_days)
    notice_id = str(uuid.uuid4())
    nodes = await ctx.orgs.nodes_within(scheme.owner_org, session)
    header = {
        "notice_id": notice_id,
        "round_id": round_id,
        "scheme_id": scheme.scheme_id,
        "scheme_title": scheme.title,
        "owner_org": scheme.owner_org,
        "starts_at": starts_at,
        "ends_at": ends_at,
    }
    shortlisted = _Shortlist(session, ctx, who, header, nodes)
    for start in range(0, len(nomination_ids), BATCH):
        batch = nomination_ids[start : start + BATCH]
        dossiers = await nomination_repository.latest_dossiers(session, batch)
        for row in await repo.nominations_by_id(session, batch):
            await shortlisted.take(row, dossiers.get(row.nomination_id))
    await shortlisted.flush()
    return Published(
        notice_id, found.round_id, scheme.scheme_id, scheme.owner_org,
        starts_at, ends_at, len(nomination_ids), nodes,
    )  # fmt: skip


async def record_notice(
    session: AsyncSession, ctx: Context, event: NoticePublished, envelope: Envelope
) -> None:
    """A notice (or one more part of its shortlist) arrived in this node's inbox: stored once.
    Only the node hosting the owner org may publish its notices."""
    owner = await ctx.orgs.get(event.owner_org, session)
    if owner is None:
        raise UnknownOrg(event.owner_org)
    if owner.hosted_by != envelope.node:
        raise Rejected("unauthorised_notice", ["ce_source"])
    notice = event.model_dump(exclude={"entries"})
    entries = [
        {**entry.model_dump(mode="json"), "notice_id": event.notice_id} for entry in event.entries
    ]
    await repo.add_notice(session, notice, entries)


async def viewer_org(session: AsyncSession, who: Principal) -> str:
    """Where the caller stands: a member's home org as this node knows it, else the token's."""
    if who.member_id is not None:
        member = await member_repository.get_member(session, who.member_id)
        if member is not None:
            return member.home_org
    return who.org


async def _visible_owners(session: AsyncSession, ctx: Context, who: Principal) -> list[str]:
    org = await viewer_org(session, who)
    return [org, *await ctx.orgs.ancestors(org, session)]


async def visible_notice(
    session: AsyncSession, ctx: Context, who: Principal, notice_id: str
) -> Notice:
    notice = await repo.get_notice(session, notice_id)
    if notice is None or notice.owner_org not in await _visible_owners(session, ctx, who):
        raise NotFound(f"notice_id: no notice {notice_id} here")
    return notice


async def notices_for(
    session: AsyncSession, ctx: Context, who: Principal, *, after: Position | None, limit: int
) -> list[Notice]:
    """The notices of the caller's org and the orgs above it, newest first."""
    owners = await _visible_owners(session, ctx, who)
    return await repo.notices_of_owners(session, owners, after=after, limit=limit)


async def notice_entries(
    session: AsyncSession, notice: Notice, *, after: str | None, limit: int
) -> tuple[list[NoticeEntry], int]:
    entries = await repo.entries_of(session, notice.notice_id, after=after, limit=limit)
    return entries, await repo.count_entries(session, notice.notice_id)
