"""The owner's decision on a nomination and the round's publication in one batch, at the
scheme owner's node (hzsteel here): refused before the notice ends or while an objection is
open; a grant reserves its cost in the scheme budget or is refused when it would run out;
publication needs a closed round with every shortlisted nomination decided, and then takes
every decision step, pays every grant and publishes the round, all in one transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from awards.models import MESSAGING, Grant, Nomination, NominationStep, Round, Scheme
from awards.service.context import Context
from shared.testing import staged

NOW = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
OWNER = {"org": "hzsteel", "roles": ["cadre"]}
GRANT = {"granted": True, "reasons": "Cut the scrap rate by a third."}
REJECT = {"granted": False, "reasons": "Another nominee did more this year."}


async def _get(app: FastAPI, model: Any, key: Any) -> Any:
    async with app.state.runtime.db.reading() as session:
        return await session.get(model, key)


async def _outbox(app: FastAPI) -> list[tuple[str, dict[str, Any]]]:
    """(ce_type, body) of every staged event, in order."""
    return [(m.type, m.body) for m in await staged(app.state.runtime.db, MESSAGING.outbox)]


def _short(ce_type: str) -> str:
    return ce_type.removeprefix("bigschool.awards.").removesuffix(".v1")


async def test_a_decision_before_the_notice_period_ends_is_refused_and_changes_nothing(
    app, client, auth, award_rows
) -> None:
    scheme_id, round_id = await award_rows.scheme()
    nomination_id, _ = await award_rows.nomination(
        scheme_id, round_id, notice_ends_at=NOW + timedelta(days=2)
    )

    answer = await client.post(
        f"/nominations/{nomination_id}/decision", json=GRANT, headers=auth(**OWNER)
    )

    assert answer.status_code == 409
    assert "notice period runs until" in answer.json()["detail"]
    row = await _get(app, Nomination, nomination_id)
    assert row.decision is None
    assert (await _get(app, Scheme, scheme_id)).committed_fen == 0


async def test_a_decision_waits_for_objections_still_on_their_way_after_the_notice(
    app, client, auth, award_rows
) -> None:
    """An objection filed in the notice's last minute travels from the member's node: for
    `objection_grace_seconds` (an hour by default) after the end, decisions wait for it."""
    scheme_id, round_id = await award_rows.scheme()
    nomination_id, _ = await award_rows.nomination(
        scheme_id, round_id, notice_ends_at=NOW - timedelta(minutes=10)
    )
    decide = f"/nominations/{nomination_id}/decision"

    early = await client.post(decide, json=REJECT, headers=auth(**OWNER))
    app.state.context.clock.at = NOW + timedelta(minutes=51)
    after = await client.post(decide, json=REJECT, headers=auth(**OWNER))

    assert early.status_code == 409
    assert "objections filed in time may still arrive" in early.json()["detail"]
    assert after.status_code == 200, after.text


async def test_a_decision_while_an_objection_is_open_is_refused(
    app, client, auth, award_rows
) -> None:
    scheme_id, round_id = await award_rows.scheme()
    nomination_id, _ = await award_rows.nomination(scheme_id, round_id, open_objections=1)

    answer = await client.post(
        f"/nominations/{nomination_id}/decision", json=REJECT, headers=auth(**OWNER)
    )

    assert answer.status_code == 409
    assert "objection(s) are still open" in answer.json()["detail"]
    assert (await _get(app, Nomination, nomination_id)).decision is None


async def test_a_nomination_never_shortlisted_may_be_rejected_but_not_granted(
    app, client, auth, award_rows
) -> None:
    scheme_id, round_id = await award_rows.scheme()
    granted_id, _ = await award_rows.nomination(
        scheme_id, round_id, status="in_review", notice_ends_at=None
    )
    rejected_id, _ = await award_rows.nomination(
        scheme_id, round_id, status="in_review", notice_ends_at=None
    )

    grant = await client.post(
        f"/nominations/{granted_id}/decision", json=GRANT, headers=auth(**OWNER)
    )
    reject = await client.post(
        f"/nominations/{rejected_id}/decision", json=REJECT, headers=auth(**OWNER)
    )

    assert grant.status_code == 409
    assert reject.status_code == 200, reject.text
    assert (reject.json()["decision"], reject.json()["amount_fen"]) == ("rejected", 0)
    assert (await _get(app, Scheme, scheme_id)).committed_fen == 0


async def test_a_grant_reserves_its_cash_benefits_in_the_scheme_budget_unpublished(
    app, client, auth, award_rows
) -> None:
    scheme_id, round_id = await award_rows.scheme(cash_fen=500_000, budget_fen=1_200_000)
    nomination_id, _ = await award_rows.nomination(scheme_id, round_id)

    answer = await client.post(
        f"/nominations/{nomination_id}/decision", json=GRANT, headers=auth(**OWNER)
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["decision"], body["status"], body["published"]) == ("granted", "on_notice", False)
    assert (body["amount_fen"], body["budget_left_fen"]) == (500_000, 700_000)
    assert body["decided_by"] == "hzsteel-cadre"
    assert (await _get(app, Scheme, scheme_id)).committed_fen == 500_000
    row = await _get(app, Nomination, nomination_id)
    assert (row.decision, row.decision_reasons, row.amount_fen) == (
        "granted",
        GRANT["reasons"],
        500_000,
    )
    assert await _outbox(app) == [], "a decision is published with the round, not before"


async def test_a_grant_beyond_the_budget_is_refused_with_what_is_left_and_commits_nothing(
    app, client, auth, award_rows
) -> None:
    scheme_id, round_id = await award_rows.scheme(cash_fen=500_000, budget_fen=800_000)
    first, _ = await award_rows.nomination(scheme_id, round_id)
    second, _ = await award_rows.nomination(scheme_id, round_id)
    assert (
        await client.post(f"/nominations/{first}/decision", json=GRANT, headers=auth(**OWNER))
    ).status_code == 200

    answer = await client.post(f"/nominations/{second}/decision", json=GRANT, headers=auth(**OWNER))

    assert answer.status_code == 409
    problem = answer.json()
    assert problem["detail"] == "scheme budget: 3,000.00 yuan left, this grant needs 5,000.00"
    assert problem["errors"][0]["field"] == "budget_fen"
    assert (await _get(app, Scheme, scheme_id)).committed_fen == 500_000
    assert (await _get(app, Nomination, second)).decision is None
    rejected = await client.post(
        f"/nominations/{second}/decision", json=REJECT, headers=auth(**OWNER)
    )
    assert rejected.status_code == 200, "a rejection costs nothing"


async def test_a_nomination_is_decided_once(app, client, auth, award_rows) -> None:
    scheme_id, round_id = await award_rows.scheme()
    nomination_id, _ = await award_rows.nomination(scheme_id, round_id)
    url = f"/nominations/{nomination_id}/decision"
    assert (await client.post(url, json=GRANT, headers=auth(**OWNER))).status_code == 200

    again = await client.post(url, json=REJECT, headers=auth(**OWNER))

    assert again.status_code == 409
    assert "granted already" in again.json()["detail"]
    assert (await _get(app, Scheme, scheme_id)).committed_fen == 500_000


async def test_a_decision_without_reasons_is_422_naming_the_field(client, auth, award_rows) -> None:
    scheme_id, round_id = await award_rows.scheme()
    nomination_id, _ = await award_rows.nomination(scheme_id, round_id)

    for body in ({"granted": True}, {"granted": True, "reasons": "  \n "}):
        answer = await client.post(
            f"/nominations/{nomination_id}/decision", json=body, headers=auth(**OWNER)
        )
        assert answer.status_code == 422
        assert "reasons" in json.dumps(answer.json()["errors"])


async def test_publishing_needs_a_closed_round(app, client, auth, award_rows) -> None:
    _, round_id = await award_rows.scheme(round_status="open")

    answer = await client.post(f"/rounds/{round_id}/publish", headers=auth(**OWNER))

    assert answer.status_code == 409
    assert "open, not closed" in answer.json()["detail"]
    assert (await _get(app, Round, round_id)).status == "open"


async def test_publishing_needs_a_decision_for_every_nomination_in_review_or_on_notice(
    app, client, auth, award_rows
) -> None:
    scheme_id, round_id = await award_rows.scheme()
    decided, _ = await award_rows.nomination(scheme_id, round_id)
    await award_rows.nomination(scheme_id, round_id)
    await award_rows.nomination(scheme_id, round_id, status="in_review", notice_ends_at=None)
    await award_rows.nomination(scheme_id, round_id, status="vetoed", notice_ends_at=None)
    await client.post(f"/nominations/{decided}/decision", json=GRANT, headers=auth(**OWNER))

    answer = await client.post(f"/rounds/{round_id}/publish", headers=auth(**OWNER))

    assert answer.status_code == 409
    assert answer.json()["undecided"] == 2
    assert "2 nomination(s)" in answer.json()["detail"]
    assert (await _get(app, Round, round_id)).status == "closed"
    assert (await _get(app, Nomination, decided)).status == "on_notice"
    assert await _outbox(app) == []


async def _decided_round(client, auth, award_rows) -> tuple[str, str, list[str], str]:
    """A closed round of hzsteel: two grants, one rejection; returns the ids."""
    scheme_id, round_id = await award_rows.scheme(cash_fen=500_000, budget_fen=2_000_000)
    granted = [(await award_rows.nomination(scheme_id, round_id))[0] for _ in range(2)]
    rejected, _ = await award_rows.nomination(scheme_id, round_id)
    for nomination_id in granted:
        await client.post(
            f"/nominations/{nomination_id}/decision", json=GRANT, headers=auth(**OWNER)
        )
    await client.post(f"/nominations/{rejected}/decision", json=REJECT, headers=auth(**OWNER))
    return scheme_id, round_id, granted, rejected


async def test_publishing_takes_every_decision_step_pays_every_grant_and_publishes_the_round(
    app, client, auth, award_rows
) -> None:
    scheme_id, round_id, granted, rejected = await _decided_round(client, auth, award_rows)
    ctx: Context = app.state.context
    ctx.clock.at = NOW + timedelta(hours=1)  # type: ignore[attr-defined]

    answer = await client.post(f"/rounds/{round_id}/publish", headers=auth(**OWNER))

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["granted"], body["rejected"], body["paid_fen"]) == (2, 1, 1_000_000)
    assert (await _get(app, Round, round_id)).status == "published"
    scheme = await _get(app, Scheme, scheme_id)
    assert (scheme.committed_fen, scheme.paid_fen) == (0, 1_000_000)
    for nomination_id in granted:
        assert (await _get(app, Nomination, nomination_id)).status == "granted"
    assert (await _get(app, Nomination, rejected)).status == "rejected"
    async with app.state.runtime.db.reading() as session:
        grants = list((await session.execute(select(Grant))).scalars())
        steps = list((await session.execute(select(NominationStep))).scalars())
    assert sorted(g.nomination_id for g in grants) == sorted(granted)
    assert {g.amount_fen for g in grants} == {500_000}
    assert sorted(s.nomination_id for s in steps) == sorted([*granted, rejected])
    assert {s.reason for s in steps} == {GRANT["reasons"], REJECT["reasons"]}

    events = await _outbox(app)
    kinds = [_short(t) for t, _ in events]
    assert kinds.count("nomination_decided") == 3
    assert kinds.count("honour_granted") == 2
    assert kinds[-1] == "round_changed" and events[-1][1]["status"] == "published"
    honours = [b for t, b in events if _short(t) == "honour_granted"]
    assert sorted(h["source_id"] for h in honours) == sorted(granted)
    assert sorted(h["honour_id"] for h in honours) == sorted(g.grant_id for g in grants)
    honour = honours[0]
    assert (honour["kind"], honour["scheme_kind"], honour["year"]) == (
        "award",
        "model_worker",
        2025,
    )
    assert (honour["granting_org"], honour["home_org"]) == ("hzsteel", "hzsteel-rolling")
    assert (honour["amount_fen"], honour["reason"]) == (500_000, GRANT["reasons"])
    assert honour["benefits"] == ["cash", "recuperation_leave"]
    decided = [b for t, b in events if _short(t) == "nomination_decided"]
    assert {d["state"]["status"] for d in decided} == {"granted", "rejected"}
    assert {d["decided_by"] for d in decided} == {"hzsteel-cadre"}
    assert {d["decided_at"] for d in decided} == {NOW.isoformat().replace("+00:00", "Z")}


async def test_a_published_round_is_not_published_again_nor_decided_on(
    app, client, auth, award_rows
) -> None:
    scheme_id, round_id, _, _ = await _decided_round(client, auth, award_rows)
    assert (
        await client.post(f"/rounds/{round_id}/publish", headers=auth(**OWNER))
    ).status_code == 200
    late, _ = await award_rows.nomination(scheme_id, round_id)

    again = await client.post(f"/rounds/{round_id}/publish", headers=auth(**OWNER))
    decision = await client.post(f"/nominations/{late}/decision", json=GRANT, headers=auth(**OWNER))

    assert again.status_code == 409
    assert decision.status_code == 409
    assert (await _get(app, Scheme, scheme_id)).paid_fen == 1_000_000


async def test_the_results_list_every_decision_with_names_a_page_at_a_time(
    client, auth, award_rows
) -> None:
    _, round_id, granted, rejected = await _decided_round(client, auth, award_rows)
    url = f"/rounds/{round_id}/results"

    first = await client.get(url, params={"limit": 2}, headers=auth(**OWNER))
    rest = await client.get(
        url, params={"limit": 2, "cursor": first.json()["next_cursor"]}, headers=auth(**OWNER)
    )

    assert first.status_code == 200, first.text
    items = first.json()["items"] + rest.json()["items"]
    assert rest.json()["next_cursor"] is None
    assert sorted(i["nomination_id"] for i in items) == sorted([*granted, rejected])
    assert {i["nominees"][0]["display_name"] for i in items} == {"王芳"}
    assert {(i["decision"], i["published"]) for i in items} == {
        ("granted", False),
        ("rejected", False),
    }
