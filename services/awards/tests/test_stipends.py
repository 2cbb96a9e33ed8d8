"""Stipends of granted titles at the scheme owner's node: publication starts a schedule of
yearly payments; the node's job raises each payment once it is due, on the injectable clock —
after downtime it catches up, and it never pays twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from awards.models import MESSAGING, Scheme, StipendPayment
from awards.service.stipends import StipendPayments, pay_one
from shared.testing import staged

NOW = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
YEAR = timedelta(days=365)
OWNER = {"org": "hzsteel", "roles": ["cadre"]}
STIPEND = {"yearly_fen": 200_000, "years": 3}
GRANT = {"granted": True, "reasons": "Twenty years of safe crane operation."}


def _move(app: FastAPI, to: datetime) -> None:
    app.state.context.clock.at = to


async def _stipend_honours(app: FastAPI) -> list[dict[str, Any]]:
    bodies = [m.body for m in await staged(app.state.runtime.db, MESSAGING.outbox)]
    return [b for b in bodies if b.get("honour_id") and b.get("kind") == "stipend"]


async def _granted(
    app: FastAPI, client, auth, award_rows, *, kind: str = "model_worker", **scheme: Any
) -> tuple[str, str]:
    """A model worker title granted and published at NOW; returns (scheme, nomination)."""
    scheme_id, round_id = await award_rows.scheme(kind=kind, stipend=STIPEND, **scheme)
    nomination_id, _ = await award_rows.nomination(scheme_id, round_id)
    url = f"/nominations/{nomination_id}/decision"
    assert (await client.post(url, json=GRANT, headers=auth(**OWNER))).status_code == 200
    published = await client.post(f"/rounds/{round_id}/publish", headers=auth(**OWNER))
    assert published.status_code == 200, published.text
    return scheme_id, nomination_id


async def test_publication_starts_a_schedule_of_yearly_payments_from_the_grant(
    app, client, auth, award_rows
) -> None:
    _, nomination_id = await _granted(app, client, auth, award_rows)

    answer = await client.get(f"/nominations/{nomination_id}/stipend", headers=auth(**OWNER))

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["yearly_fen"], body["years"], body["paid_fen"]) == (200_000, 3, 0)
    payments = body["payments"]
    assert [p["number"] for p in payments] == [1, 2, 3]
    assert [p["due_at"][:10] for p in payments] == ["2025-06-01", "2026-06-01", "2027-06-01"]
    assert [p["status"] for p in payments] == ["due", "scheduled", "scheduled"]


async def test_three_years_with_a_month_of_downtime_raise_exactly_three_payments(
    app, client, auth, award_rows
) -> None:
    scheme_id, nomination_id = await _granted(app, client, auth, award_rows)
    job: StipendPayments = app.state.stipend_payments
    paid = [await job.run_once()]
    _move(app, NOW + YEAR)
    paid.append(await job.run_once())
    # Down from just before the third anniversary for a month: the job does not run.
    _move(app, NOW + 2 * YEAR - timedelta(days=1))
    paid.append(await job.run_once())
    _move(app, NOW + 2 * YEAR + timedelta(days=30))
    paid.append(await job.run_once())
    _move(app, NOW + 3 * YEAR + timedelta(days=1))
    paid += [await job.run_once(), await job.run_once()]

    assert paid == [1, 1, 0, 1, 0, 0]
    honours = await _stipend_honours(app)
    assert len(honours) == 3
    assert len({h["honour_id"] for h in honours}) == 3
    assert [h["year"] for h in honours] == [2025, 2026, 2027]
    assert {(h["amount_fen"], h["granting_org"], h["home_org"]) for h in honours} == {
        (200_000, "hzsteel", "hzsteel-rolling")
    }
    async with app.state.runtime.db.reading() as session:
        scheme = await session.get(Scheme, scheme_id)
        assert scheme is not None
        assert scheme.paid_fen == 500_000 + 3 * 200_000
    stipend = await client.get(f"/nominations/{nomination_id}/stipend", headers=auth(**OWNER))
    assert {p["status"] for p in stipend.json()["payments"]} == {"paid"}
    assert stipend.json()["paid_fen"] == 600_000
    assert {h["source_id"] for h in honours} == {stipend.json()["schedule_id"]}


async def test_after_long_downtime_one_run_catches_up_and_a_second_pays_nothing(
    app, client, auth, award_rows
) -> None:
    await _granted(app, client, auth, award_rows)
    job: StipendPayments = app.state.stipend_payments
    _move(app, NOW + 5 * YEAR)

    assert await job.run_once() == 3
    assert await job.run_once() == 0
    assert len(await _stipend_honours(app)) == 3


async def test_two_jobs_at_once_pay_each_payment_once(app, client, auth, award_rows) -> None:
    await _granted(app, client, auth, award_rows)
    other = StipendPayments(app.state.runtime.db, app.state.context, batch=1)
    _move(app, NOW + 3 * YEAR)

    paid = await asyncio.gather(app.state.stipend_payments.run_once(), other.run_once())

    assert sum(paid) == 3
    assert len(await _stipend_honours(app)) == 3


async def test_a_payment_already_raised_is_never_raised_again(
    app, client, auth, award_rows
) -> None:
    await _granted(app, client, auth, award_rows)
    async with app.state.runtime.db.reading() as session:
        first = (
            await session.execute(select(StipendPayment).where(StipendPayment.number == 1))
        ).scalar_one()
    ctx, db = app.state.context, app.state.runtime.db

    async with db.transaction() as session:
        assert await pay_one(session, ctx, first.schedule_id, 1) is True
    async with db.transaction() as session:
        assert await pay_one(session, ctx, first.schedule_id, 1) is False
    async with db.transaction() as session:
        assert await pay_one(session, ctx, first.schedule_id, 2) is False, "not due yet"
    assert len(await _stipend_honours(app)) == 1


async def test_a_payment_the_budget_cannot_cover_stays_owed_until_it_can(
    app, client, auth, award_rows
) -> None:
    # The grant's 5,000 yuan and one yearly payment of 2,000 yuan: the second waits.
    scheme_id, nomination_id = await _granted(
        app, client, auth, award_rows, budget_fen=500_000 + 200_000
    )
    job: StipendPayments = app.state.stipend_payments
    assert await job.run_once() == 1
    _move(app, NOW + YEAR)

    assert await job.run_once() == 0
    stipend = await client.get(f"/nominations/{nomination_id}/stipend", headers=auth(**OWNER))
    assert [p["status"] for p in stipend.json()["payments"]] == ["paid", "due", "scheduled"]

    async with app.state.runtime.db.transaction() as session:
        scheme = await session.get(Scheme, scheme_id)
        assert scheme is not None
        scheme.budget_fen += 1_000_000
    assert await job.run_once() == 1
    assert len(await _stipend_honours(app)) == 2


async def test_a_scheme_kind_that_is_no_title_gives_no_stipend(
    app, client, auth, award_rows
) -> None:
    _, nomination_id = await _granted(app, client, auth, award_rows, kind="annual_top_earner")

    answer = await client.get(f"/nominations/{nomination_id}/stipend", headers=auth(**OWNER))

    assert answer.status_code == 404
    _move(app, NOW + 3 * YEAR)
    assert await app.state.stipend_payments.run_once() == 0


async def test_the_service_runs_the_stipend_job_at_the_configured_period(app) -> None:
    job: StipendPayments = app.state.stipend_payments

    assert job.every_seconds == app.state.context.settings.stipend_check_seconds
    assert job.run in app.state.runtime.workers
