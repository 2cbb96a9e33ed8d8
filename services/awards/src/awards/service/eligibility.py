"""Eligibility at the member's home node: a scheme's criteria checked against the facts
learnt from enrollment events and the titles on the member's honours record — no call to
another service. A nomination attaches the evaluation's `cited` facts to its dossier."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from awards import honours_repository, repository
from awards.domain.criteria import Evaluation, FactRecord, evaluate
from awards.domain.facts import year_bounds
from awards.models import EligibilityFact
from awards.service.context import Context
from shared.contracts.events.schemes import Criteria


def fact_record(fact: EligibilityFact) -> FactRecord:
    return FactRecord(
        fact_id=fact.fact_id,
        member_id=fact.member_id,
        kind=fact.kind,
        programme_id=fact.programme_id,
        programme_title=fact.programme_title,
        quality_area=fact.quality_area,
        hours=fact.hours,
        rank=fact.rank,
        occurred_at=fact.occurred_at,
        source_type=fact.source_type,
    )


async def facts_of_year(
    session: AsyncSession, ctx: Context, member_id: str, year: int
) -> list[FactRecord]:
    """The member's completions in the federation's calendar year `year`."""
    start, end = year_bounds(year, ctx.settings.federation_timezone)
    rows = await repository.completions_between(session, member_id, start, end)
    return [fact_record(f) for f in rows]


async def evaluate_member(
    session: AsyncSession, ctx: Context, member_id: str, criteria: Criteria, year: int
) -> Evaluation:
    """Whether the member meets `criteria` in `year`, what is missing, and which facts (with
    their source `ce_id`s) prove what is met."""
    start, end = year_bounds(year, ctx.settings.federation_timezone)
    facts = await facts_of_year(session, ctx, member_id, year)
    titles = await honours_repository.titles_held(session, member_id)
    return evaluate(criteria, facts, titles, start, end)
