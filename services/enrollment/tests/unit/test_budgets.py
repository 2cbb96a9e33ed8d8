"""Training budgets: the money rules, the seat use cases inside a caller's transaction, the
year in the federation's zone, and who may see and set a budget over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select

from enrollment.domain import budget as rules
from enrollment.models import Budget as BudgetRow
from enrollment.service.budgets import (
    budget_year,
    commit_seat,
    lock_budgets,
    release_seat,
    set_budget,
    spend_seat,
)
from shared.clock import FixedClock

NOW = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)
PROBLEM = "application/problem+json"

# ---------------------------------------------------------------- the money rules (pure)


def test_available_is_the_education_share_of_the_fund_rounded_down() -> None:
    budget = rules.Budget(union_fund_fen=333, education_share_bp=3_333)

    assert budget.available_fen == 110  # 110.9889 fen
    assert budget.left_fen == 110
    assert rules.Budget(1_000_000, 10_000).available_fen == 1_000_000
    assert rules.Budget(1_000_000, 0).available_fen == 0


def test_a_free_seat_can_always_be_paid_even_without_a_budget() -> None:
    assert rules.can_pay(None, 0)
    assert not rules.can_pay(None, 1)


def test_a_commit_that_would_overrun_raises_and_one_that_fits_is_held() -> None:
    budget = rules.Budget(10_000, 1_000, committed_fen=600, spent_fen=300)  # left: 100

    assert rules.can_pay(budget, 100)
    assert not rules.can_pay(budget, 101)
    assert rules.commit(budget, 100).committed_fen == 700
    with pytest.raises(rules.BudgetExceeded):
        rules.commit(budget, 101)


def test_release_and_spend_move_committed_money_and_never_go_negative() -> None:
    budget = rules.Budget(10_000, 10_000, committed_fen=500, spent_fen=0)

    released = rules.release(budget, 200)
    spent = rules.spend(released, 300)

    assert (released.committed_fen, released.spent_fen) == (300, 0)
    assert (spent.committed_fen, spent.spent_fen, spent.left_fen) == (0, 300, 9_700)
    with pytest.raises(rules.BudgetError):
        rules.release(spent, 1)
    with pytest.raises(rules.BudgetError):
        rules.spend(spent, 1)


@pytest.mark.parametrize("amount", [-1, 1.5, True])
def test_an_amount_is_a_non_negative_whole_number_of_fen(amount) -> None:
    budget = rules.Budget(10_000, 10_000, committed_fen=500)

    for transition in (rules.commit, rules.release, rules.spend):
        with pytest.raises(rules.BudgetError) as error:
            transition(budget, amount)
        assert error.value.field == "cost_fen"
    with pytest.raises(rules.BudgetError):
        rules.Budget(amount, 100)


def test_a_share_above_one_hundred_per_cent_is_refused() -> None:
    with pytest.raises(rules.BudgetError) as error:
        rules.Budget(1_000, 10_001)

    assert error.value.field == "education_share_bp"


def test_the_fund_may_not_fall_below_what_is_committed_and_spent() -> None:
    budget = rules.Budget(10_000, 5_000, committed_fen=3_000, spent_fen=1_000)  # 5,000 avail.

    assert rules.set_fund(budget, 8_000, 5_000).left_fen == 0
    with pytest.raises(rules.BudgetExceeded) as fund:
        rules.set_fund(budget, 7_999, 5_000)
    with pytest.raises(rules.BudgetExceeded) as share:
        rules.set_fund(budget, 10_000, 3_999)
    assert (fund.value.field, share.value.field) == ("union_fund_fen", "education_share_bp")


@pytest.mark.parametrize(
    ("instant", "year"),
    [
        (datetime(2026, 12, 31, 15, 59, tzinfo=UTC), 2026),
        (datetime(2026, 12, 31, 16, 0, tzinfo=UTC), 2027),
        (datetime(2026, 12, 31, 16, 30, tzinfo=UTC), 2027),
        (datetime(2027, 1, 1, 0, 0), 2027),  # naive: UTC
    ],
)
def test_the_budget_year_is_the_calendar_year_in_asia_shanghai(instant, year) -> None:
    assert rules.year_of(instant, "Asia/Shanghai") == year


# ---------------------------------------------------------------- use cases (SQLite)


@pytest.fixture
async def owner(database_url, context_for, seed_orgs):
    ctx, db = context_for(database_url, FixedClock(NOW))
    await seed_orgs(ctx, db)
    return ctx, db


async def _set(ctx, db, org_id="hzsteel", year=2030, fund=10_000, share=10_000) -> None:
    async with db.transaction() as session:
        await set_budget(session, ctx, org_id, year, fund, share)


async def _row(db, org_id="hzsteel", year=2030) -> BudgetRow | None:
    async with db.sessions() as session:
        return await session.get(BudgetRow, (org_id, year))


def test_the_use_case_reads_the_year_in_the_configured_zone(owner) -> None:
    ctx, _db = owner

    assert ctx.settings.federation_timezone == "Asia/Shanghai"
    assert budget_year(ctx, datetime(2026, 12, 31, 16, 30, tzinfo=UTC)) == 2027


async def test_a_commit_that_would_overrun_returns_false_and_changes_nothing(owner) -> None:
    ctx, db = owner
    await _set(ctx, db, fund=1_000)
    async with db.transaction() as session:
        assert await commit_seat(session, ctx, "hzsteel", 2030, 600)
    before = await _row(db)

    async with db.transaction() as session:
        assert not await commit_seat(session, ctx, "hzsteel", 2030, 401)

    after = await _row(db)
    assert before is not None and after is not None
    assert (after.committed_fen, after.spent_fen, after.updated_at) == (600, 0, before.updated_at)


async def test_without_a_budget_only_free_seats_can_be_committed(owner) -> None:
    ctx, db = owner

    async with db.transaction() as session:
        assert await commit_seat(session, ctx, "hzsteel", 2030, 0)
        assert not await commit_seat(session, ctx, "hzsteel", 2030, 1)

    assert await _row(db) is None


async def test_release_gives_money_back_and_spend_turns_it_into_spent(owner) -> None:
    ctx, db = owner
    await _set(ctx, db, fund=1_000)
    async with db.transaction() as session:
        for _ in range(3):
            assert await commit_seat(session, ctx, "hzsteel", 2030, 300)
        assert not await commit_seat(session, ctx, "hzsteel", 2030, 300)

    async with db.transaction() as session:
        await release_seat(session, ctx, "hzsteel", 2030, 300)
        await spend_seat(session, ctx, "hzsteel", 2030, 300)
        assert await commit_seat(session, ctx, "hzsteel", 2030, 300)  # the released money

    row = await _row(db)
    assert row is not None
    assert (row.committed_fen, row.spent_fen) == (600, 300)


async def test_releasing_what_was_never_committed_is_a_domain_error(owner) -> None:
    ctx, db = owner
    await _set(ctx, db)

    with pytest.raises(rules.BudgetError):
        async with db.transaction() as session:
            await release_seat(session, ctx, "hzsteel", 2030, 1)
    with pytest.raises(rules.BudgetError):
        async with db.transaction() as session:
            await spend_seat(session, ctx, "zj-hz", 2030, 1)  # no budget at all


async def test_a_batch_locks_its_budgets_once_then_commits_from_memory(owner) -> None:
    ctx, db = owner
    await _set(ctx, db, "hzsteel")
    await _set(ctx, db, "zj-hz")
    selects: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with db.transaction() as session:
            await lock_budgets(session, ctx, [("zj-hz", 2030), ("hzsteel", 2030), ("js", 2030)])
            assert len(selects) == 1
            for org_id in ("hzsteel", "zj-hz", "hzsteel"):
                assert await commit_seat(session, ctx, org_id, 2030, 100)
            assert not await commit_seat(session, ctx, "js", 2030, 100)  # none there
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)

    assert len(selects) == 1
    async with db.sessions() as session:
        rows = (await session.execute(select(BudgetRow).order_by(BudgetRow.org_id))).scalars()
        assert [(r.org_id, r.committed_fen) for r in rows] == [("hzsteel", 200), ("zj-hz", 100)]


# ---------------------------------------------------------------- HTTP


async def _put(node, token, org_id="hzsteel", year=2030, *, who=None, **body):
    body = {"union_fund_fen": 1_000_000, "education_share_bp": 2_500} | body
    headers = token(*(who or (org_id, "cadre")))
    return await node.client.put(f"/budgets/{org_id}/{year}", json=body, headers=headers)


async def test_a_cadre_sets_their_orgs_budget_and_reads_the_figures(node, token) -> None:
    response = await _put(node, token)

    assert response.status_code == 200, response.text
    got = await node.client.get("/budgets/hzsteel/2030", headers=token("hzsteel", "cadre"))
    assert got.status_code == 200
    body = got.json()
    assert {k: body[k] for k in ("available", "committed", "spent", "left")} == {
        "available": 250_000,
        "committed": 0,
        "spent": 0,
        "left": 250_000,
    }
    assert (body["union_fund_fen"], body["education_share_bp"]) == (1_000_000, 2_500)


async def test_an_org_without_a_budget_shows_zeros(node, token) -> None:
    response = await node.client.get("/budgets/hzsteel/2031", headers=token("hzsteel", "cadre"))

    assert response.status_code == 200
    assert response.json()["left"] == 0
    assert response.json()["updated_at"] is None


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (("hzsteel", "cadre"), 200),
        (("hzsteel", "admin"), 200),
        (("zj-hz", "cadre"), 403),  # above the org: sees it, does not set it
        (("zj", "admin"), 403),
        (("hzsteel-rolling", "cadre"), 404),  # below the org: may not see it
        (("hzsteel-casting", "cadre"), 404),
        (("js", "cadre"), 404),
        (("hzsteel", "member"), 404),
        (("hzsteel", "reviewer"), 404),
    ],
)
async def test_who_may_set_a_budget(node, token, who, status) -> None:
    response = await _put(node, token, who=who)

    assert response.status_code == status, response.text
    if status != 200:
        assert response.headers["content-type"] == PROBLEM
        assert await _row(node.db) is None


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (("hzsteel", "cadre"), 200),
        (("zj-hz", "cadre"), 200),
        (("zj", "cadre"), 200),
        (("cn", "admin"), 200),
        (("hzsteel-rolling", "cadre"), 404),
        (("hzsteel-casting", "admin"), 404),
        (("js", "cadre"), 404),
        (("hzsteel", "member"), 404),
    ],
)
async def test_who_may_see_a_budget_and_its_subtree(node, token, who, status) -> None:
    await _put(node, token)

    for path in ("/budgets/hzsteel/2030", "/budgets/hzsteel/2030/subtree"):
        response = await node.client.get(path, headers=token(*who))
        assert response.status_code == status, (path, response.text)


async def test_an_org_not_hosted_here_or_unknown_has_no_budget_here(node, token) -> None:
    other_node = await _put(node, token, "js-nj")
    unknown = await _put(node, token, "ghost")
    read = await node.client.get("/budgets/js-nj/2030", headers=token("js-nj", "cadre"))

    assert (other_node.status_code, unknown.status_code, read.status_code) == (404, 404, 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"union_fund_fen": -1}, "union_fund_fen"),
        ({"union_fund_fen": 10**16}, "union_fund_fen"),
        ({"union_fund_fen": 1.5}, "union_fund_fen"),
        ({"education_share_bp": 10_001}, "education_share_bp"),
        ({"education_share_bp": -1}, "education_share_bp"),
    ],
)
async def test_invalid_amounts_are_unprocessable_naming_the_field(node, token, body, field) -> None:
    response = await _put(node, token, **body)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert await _row(node.db) is None


async def test_a_year_out_of_range_is_unprocessable(node, token) -> None:
    response = await _put(node, token, year=99_999)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["path.year"]


async def test_the_fund_cannot_be_lowered_below_committed_and_spent(node, token) -> None:
    await _put(node, token, union_fund_fen=10_000, education_share_bp=10_000)
    async with node.db.transaction() as session:
        assert await commit_seat(session, node.ctx, "hzsteel", 2030, 6_000)
        await spend_seat(session, node.ctx, "hzsteel", 2030, 2_000)

    fund = await _put(node, token, union_fund_fen=5_999, education_share_bp=10_000)
    share = await _put(node, token, union_fund_fen=10_000, education_share_bp=5_999)
    fits = await _put(node, token, union_fund_fen=6_000, education_share_bp=10_000)

    assert (fund.status_code, share.status_code) == (409, 409)
    assert fund.json()["errors"][0]["field"] == "union_fund_fen"
    assert share.json()["errors"][0]["field"] == "education_share_bp"
    assert fits.status_code == 200
    assert (fits.json()["committed"], fits.json()["spent"], fits.json()["left"]) == (
        4_000,
        2_000,
        0,
    )


async def test_the_subtree_sums_the_org_and_its_descendants_hosted_here(node, token) -> None:
    for org_id, fund in (("zj-hz", 100_000), ("hzsteel", 50_000), ("hzsteel-rolling", 8_000)):
        assert (await _put(node, token, org_id, union_fund_fen=fund)).status_code == 200
    await _put(node, token, "hzsteel", 2031)  # another year
    costs = [("hzsteel", 1_000), ("hzsteel", 2_500), ("hzsteel-rolling", 700)]
    async with node.db.transaction() as session:
        for org_id, cost in costs:
            assert await commit_seat(session, node.ctx, org_id, 2030, cost)
        await spend_seat(session, node.ctx, "hzsteel", 2030, 1_000)
        await spend_seat(session, node.ctx, "hzsteel-rolling", 2030, 700)

    response = await node.client.get("/budgets/hzsteel/2030/subtree", headers=token("zj", "cadre"))
    whole = await node.client.get("/budgets/zj/2030/subtree", headers=token("zj", "cadre"))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["orgs"] == 2 and body["node"] == "zj"
    assert body["spent"] == 1_700  # the roll-up of spent is the sum of the seats' costs
    assert body["committed"] == 2_500
    assert body["available"] == (50_000 + 8_000) // 4
    assert body["left"] == body["available"] - 4_200
    assert whole.json()["orgs"] == 3
    assert whole.json()["available"] == 158_000 // 4
