"""Proposal figures of an org's subtree per month of a year, as far as this node knows it:
its own members and the proposals evaluated here. Figures only, small groups suppressed
(awards.domain.proposal_stats)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from awards import member_repository
from awards import proposal_repository as repo
from awards.domain.proposal_stats import MONTHS, Counts, ProposalStats, build_stats, month_starts
from awards.domain.rollups import MIN_GROUP_SIZE
from awards.proposal_repository import CountRow
from awards.service.context import Context


def _counts(submitted: CountRow | None, evaluated: CountRow | None) -> Counts:
    submitted_count, authors = submitted or (0, 0)
    evaluated_count, evaluated_authors, adopted = evaluated or (0, 0, 0)
    return Counts(submitted_count, authors, evaluated_count, evaluated_authors, adopted)


async def proposal_stats(session: AsyncSession, ctx: Context, org: str, year: int) -> ProposalStats:
    starts = month_starts(year, ctx.settings.federation_timezone)
    candidates = set(await repo.member_home_orgs(session))
    candidates |= set(await repo.proposal_home_orgs(session, starts[0], starts[-1]))
    # The directory answers from its cache: a node never loads the whole tree.
    orgs = [o for o in sorted(candidates) if await ctx.orgs.is_within(o, org, session)]
    members = await member_repository.count_members(session, orgs) if orgs else 0
    if members < MIN_GROUP_SIZE:
        return build_stats(org, year, members, Counts(), {})  # all suppressed: count nothing
    submitted, submitted_total = await repo.submission_counts(session, orgs, starts)
    evaluated, evaluated_total = await repo.evaluation_counts(session, orgs, starts)
    months = {m: _counts(submitted.get(m), evaluated.get(m)) for m in MONTHS}
    return build_stats(org, year, members, _counts(submitted_total, evaluated_total), months)
