"""Rationalization proposals over HTTP: a member submits at their home node, the evaluating
org's cadres adopt, try, assess and reward it by the tier table, with one `HonourGranted` in
the outbox; a rejection needs reasons; a step out of order is 409; every step is kept."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select

from awards.models import MESSAGING, Proposal, ProposalStepRecord
from shared.contracts import topics
from shared.contracts.events import HonourGranted, MemberRegistered, ProposalEvaluated
from shared.messaging.consumer import Outcome
from shared.testing import FakeRecord, Staged, staged

NODE = "hzsteel"  # the node the app fixture runs
ROLLING = "hzsteel-rolling"
CADRE = {"org": ROLLING, "roles": ["cadre"], "sub": "cadre-wang"}


async def _register(bus, home_org: str = ROLLING) -> str:
    """A new member of this node; their id."""
    member_id = str(uuid.uuid4())
    event = MemberRegistered(member_id=member_id, home_org=home_org, name="李雷")
    record, _ = bus.record(event, topics.members(NODE))
    assert await bus.deliver("members", record) is Outcome.handled
    return member_id


def _proposal(**overrides) -> dict:
    body = {
        "title": "Reuse the rolling mill's cooling water",
        "problem": "Cooling water is drained after one pass.\n\nIt costs money twice.",
        "proposal": "Route it through a settling tank and back.",
        "expected_benefit": "About 300,000 yuan a year in water and treatment fees.",
    }
    return body | overrides


async def _submit(client, auth, member_id: str, **overrides) -> dict:
    author = auth(org=ROLLING, roles=["member"], member_id=member_id)
    response = await client.post("/proposals", json=_proposal(**overrides), headers=author)
    assert response.status_code == 201, response.text
    return response.json()


async def _on_trial(client, bus, auth) -> str:
    """A new member's proposal, adopted and on trial by the rolling mill's cadre."""
    pid = (await _submit(client, auth, await _register(bus)))["proposal_id"]
    for step in ("adopt", "trial"):
        response = await client.post(f"/proposals/{pid}/{step}", headers=auth(**CADRE))
        assert response.status_code == 200
    return str(pid)


async def _outbox(app) -> list[Staged]:
    return await staged(app.state.runtime.db, MESSAGING.outbox)


async def _steps(app) -> int:
    async with app.state.runtime.db.reading() as session:
        stmt = select(func.count()).select_from(ProposalStepRecord)
        return int((await session.execute(stmt)).scalar_one())


async def test_submit_adopt_trial_assess_and_reward_by_the_tier_table(
    app, client, bus, auth
) -> None:
    member_id = await _register(bus)
    tiers = [
        {"min_benefit_fen": 0, "reward_fen": 10_000},
        {"min_benefit_fen": 1_000_000, "reward_fen": 200_000, "rate": 0.02, "cap_fen": 1_000_000},
    ]
    enterprise = auth(org="hzsteel", roles=["cadre"])
    put = await client.put(
        "/orgs/hzsteel/proposal-tiers", json={"tiers": tiers}, headers=enterprise
    )
    assert put.status_code == 200, put.text
    cadre = auth(**CADRE)
    submitted = await _submit(client, auth, member_id)
    pid = submitted["proposal_id"]

    adopted = await client.post(f"/proposals/{pid}/adopt", json={"note": "Pilot it"}, headers=cadre)
    trial = await client.post(f"/proposals/{pid}/trial", headers=cadre)
    assessed = await client.post(
        f"/proposals/{pid}/assess",
        json={"benefit_fen": 30_000_000, "note": "Metered over three months"},
        headers=cadre,
    )
    rewarded = await client.post(f"/proposals/{pid}/reward", headers=cadre)

    assert [r.status_code for r in (adopted, trial, assessed, rewarded)] == [200] * 4
    body = rewarded.json()
    # The enterprise's table (inherited by the rolling mill): 2,000 yuan + 2 % of 300,000.
    assert (body["state"], body["benefit_fen"], body["reward_fen"]) == (
        "rewarded",
        30_000_000,
        200_000 + 600_000,
    )
    assert [s["step"] for s in body["steps"]] == ["submit", "adopt", "trial", "assess", "reward"]
    assert [s["actor"] for s in body["steps"]] == [member_id] + ["cadre-wang"] * 4
    assert body["steps"][1]["note"] == "Pilot it"
    staged_events = await _outbox(app)
    [(topic, ce_type, honour)] = [e for e in staged_events if e[0] == topics.AWARDS]
    assert (topic, ce_type) == (topics.AWARDS, HonourGranted.ce_type)
    # The author is told of each step at their home node: node-local, never federation-wide.
    told = [e for e in staged_events if e[0] != topics.AWARDS]
    assert {topic for topic, _, _ in told} == {topics.members(NODE)}
    assert {ce_type for _, ce_type, _ in told} == {ProposalEvaluated.ce_type}
    assert [(e["step"], e["state"], e["member_id"]) for _, _, e in told] == [
        ("adopt", "adopted", member_id),
        ("trial", "in_trial", member_id),
        ("assess", "assessed", member_id),
        ("reward", "rewarded", member_id),
    ]
    assert told[0][2]["note"] == "Pilot it"
    assert told[2][2]["benefit_fen"] == 30_000_000
    assert honour["honour_id"] == body["honour_id"]
    assert (honour["kind"], honour["scheme_kind"], honour["source_id"]) == (
        "proposal_reward",
        "rationalization_proposal",
        pid,
    )
    assert (honour["amount_fen"], honour["member_ids"]) == (800_000, [member_id])
    assert (honour["granting_org"], honour["home_org"]) == (ROLLING, ROLLING)


async def test_submission_is_recorded_with_location_and_its_first_step(
    app, client, bus, auth
) -> None:
    member_id = await _register(bus)
    author = auth(org=ROLLING, roles=["member"], member_id=member_id)

    response = await client.post("/proposals", json=_proposal(), headers=author)

    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/proposals/{body['proposal_id']}"
    assert (body["state"], body["author_id"], body["evaluating_org"]) == (
        "submitted",
        member_id,
        ROLLING,
    )
    assert body["problem"].count("\n") == 2  # paragraphs are kept
    assert [(s["step"], s["from_state"], s["to_state"]) for s in body["steps"]] == [
        ("submit", None, "submitted")
    ]
    assert await _outbox(app) == []  # nothing is staged before a step of the evaluating org


async def test_an_org_above_the_home_org_at_this_node_may_evaluate(client, bus, auth) -> None:
    member_id = await _register(bus)

    body = await _submit(client, auth, member_id, evaluating_org="hzsteel")
    adopted = await client.post(
        f"/proposals/{body['proposal_id']}/adopt", headers=auth(org="hzsteel", roles=["cadre"])
    )

    assert body["evaluating_org"] == "hzsteel"
    assert adopted.status_code == 200, adopted.text


async def test_an_evaluating_org_at_another_node_or_off_the_members_line_is_422(
    app, client, bus, auth
) -> None:
    member_id = await _register(bus)
    author = auth(org=ROLLING, roles=["member"], member_id=member_id)

    other_node = await client.post(
        "/proposals", json=_proposal(evaluating_org="zj"), headers=author
    )
    sibling = await client.post(
        "/proposals", json=_proposal(evaluating_org="hzsteel-casting"), headers=author
    )

    for response in (other_node, sibling):
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "evaluating_org"
    assert "node zj" in other_node.json()["detail"]
    async with app.state.runtime.db.reading() as session:
        assert (await session.execute(select(func.count()).select_from(Proposal))).scalar_one() == 0


async def test_a_token_without_a_member_or_a_member_not_at_this_node_cannot_submit(
    client, bus, auth
) -> None:
    cadre = await client.post("/proposals", json=_proposal(), headers=auth(**CADRE))
    stranger = auth(org=ROLLING, roles=["member"], member_id=str(uuid.uuid4()))
    unknown = await client.post("/proposals", json=_proposal(), headers=stranger)

    assert cadre.status_code == 403
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["field"] == "member_id"


async def test_a_rejection_without_reasons_is_422_and_changes_nothing(
    app, client, bus, auth
) -> None:
    member_id = await _register(bus)
    pid = (await _submit(client, auth, member_id))["proposal_id"]

    missing = await client.post(f"/proposals/{pid}/reject", json={}, headers=auth(**CADRE))
    blank = await client.post(
        f"/proposals/{pid}/reject", json={"reasons": "  \n "}, headers=auth(**CADRE)
    )

    for response in (missing, blank):
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "reasons"
    after = await client.get(f"/proposals/{pid}", headers=auth(**CADRE))
    assert after.json()["state"] == "submitted"
    assert await _steps(app) == 1


async def test_a_rejection_with_reasons_is_final_and_read_back_by_the_author(
    client, bus, auth
) -> None:
    member_id = await _register(bus)
    pid = (await _submit(client, auth, member_id))["proposal_id"]
    reasons = "The tank would block the fire lane."

    rejected = await client.post(
        f"/proposals/{pid}/reject", json={"reasons": reasons}, headers=auth(**CADRE)
    )
    adopt_after = await client.post(f"/proposals/{pid}/adopt", headers=auth(**CADRE))
    seen = await client.get(
        f"/proposals/{pid}", headers=auth(org=ROLLING, roles=["member"], member_id=member_id)
    )

    assert rejected.status_code == 200
    assert adopt_after.status_code == 409
    body = seen.json()
    assert (body["state"], body["steps"][-1]["note"]) == ("rejected", reasons)
    assert body["evaluated_at"] is not None


async def test_a_step_out_of_order_is_409_naming_the_state_and_changes_nothing(
    app, client, bus, auth
) -> None:
    pid = (await _submit(client, auth, await _register(bus)))["proposal_id"]
    cadre = auth(**CADRE)

    trial = await client.post(f"/proposals/{pid}/trial", headers=cadre)
    assess = await client.post(
        f"/proposals/{pid}/assess", json={"benefit_fen": 1, "note": "n"}, headers=cadre
    )
    reward = await client.post(f"/proposals/{pid}/reward", headers=cadre)

    for response in (trial, assess, reward):
        assert response.status_code == 409
        assert response.json()["errors"][0]["field"] == "state"
    assert "submitted" in trial.json()["detail"]
    assert await _steps(app) == 1
    assert await _outbox(app) == []


async def test_an_assessment_needs_a_benefit_not_below_zero_and_a_note(client, bus, auth) -> None:
    pid = await _on_trial(client, bus, auth)
    cadre = auth(**CADRE)

    negative = await client.post(
        f"/proposals/{pid}/assess", json={"benefit_fen": -1, "note": "n"}, headers=cadre
    )
    no_note = await client.post(f"/proposals/{pid}/assess", json={"benefit_fen": 5}, headers=cadre)

    assert [negative.status_code, no_note.status_code] == [422, 422]
    assert negative.json()["errors"][0]["field"] == "benefit_fen"
    assert no_note.json()["errors"][0]["field"] == "note"


async def test_the_default_table_rewards_when_no_org_set_one(app, client, bus, auth) -> None:
    pid = await _on_trial(client, bus, auth)
    cadre = auth(**CADRE)
    await client.post(
        f"/proposals/{pid}/assess", json={"benefit_fen": 2_000_000, "note": "n"}, headers=cadre
    )

    rewarded = (await client.post(f"/proposals/{pid}/reward", headers=cadre)).json()

    assert rewarded["reward_fen"] == 100_000  # the default: 1,000 yuan from 10,000 a year
    assert rewarded["steps"][-1]["note"] == "tier from 1000000 fen of the default table"


async def test_lists_are_newest_first_paged_and_filtered(app, client, bus, auth) -> None:
    member_id = await _register(bus)
    clock = app.state.context.clock
    ids = []
    for day in (3, 20, 25):  # May 3, May 20, May 25 (Shanghai)
        clock.at = datetime(2025, 5, day, 2, 0, tzinfo=UTC)
        ids.append((await _submit(client, auth, member_id))["proposal_id"])
    clock.at = datetime(2025, 6, 2, 2, 0, tzinfo=UTC)
    ids.append((await _submit(client, auth, member_id))["proposal_id"])
    await client.post(f"/proposals/{ids[1]}/adopt", headers=auth(**CADRE))
    author = auth(org=ROLLING, roles=["member"], member_id=member_id)

    first = (await client.get(f"/members/{member_id}/proposals?limit=2", headers=author)).json()
    second = (
        await client.get(
            f"/members/{member_id}/proposals",
            params={"limit": 2, "cursor": first["next_cursor"]},
            headers=author,
        )
    ).json()
    may = await client.get(
        f"/orgs/{ROLLING}/proposals", params={"month": "2025-05"}, headers=auth(**CADRE)
    )
    adopted = await client.get(
        f"/orgs/{ROLLING}/proposals", params={"state": "adopted"}, headers=auth(**CADRE)
    )

    assert [p["proposal_id"] for p in first["items"] + second["items"]] == ids[::-1]
    assert [p["proposal_id"] for p in may.json()["items"]] == ids[2::-1]
    assert [p["proposal_id"] for p in adopted.json()["items"]] == [ids[1]]


async def test_a_month_that_is_no_month_is_422(client, bus, auth) -> None:
    response = await client.get(
        f"/orgs/{ROLLING}/proposals", params={"month": "2025-13"}, headers=auth(**CADRE)
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.month"


async def test_a_retried_submission_with_its_idempotency_key_records_one_proposal(
    app, client, bus, auth
) -> None:
    member_id = await _register(bus)
    headers = {
        **auth(org=ROLLING, roles=["member"], member_id=member_id),
        "Idempotency-Key": "proposal-1",
    }

    first = await client.post("/proposals", json=_proposal(), headers=headers)
    again = await client.post("/proposals", json=_proposal(), headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["proposal_id"] == first.json()["proposal_id"]
    async with app.state.runtime.db.reading() as session:
        assert (await session.execute(select(func.count()).select_from(Proposal))).scalar_one() == 1


async def test_the_reward_reaches_the_authors_honours_record_at_their_home_node(
    app, client, bus, auth
) -> None:
    pid = await _on_trial(client, bus, auth)
    cadre = auth(**CADRE)
    assess = {"benefit_fen": 500_000, "note": "n"}
    await client.post(f"/proposals/{pid}/assess", json=assess, headers=cadre)
    rewarded = (await client.post(f"/proposals/{pid}/reward", headers=cadre)).json()
    async with app.state.runtime.db.reading() as session:
        stmt = select(MESSAGING.outbox).where(MESSAGING.outbox.c.topic == topics.AWARDS)
        [row] = (await session.execute(stmt)).all()
    headers = [(k, str(v).encode()) for k, v in json.loads(row.headers)]
    record = FakeRecord(row.topic, 0, 0, row.key.encode(), row.payload, headers)

    assert await bus.deliver("honours", record) is Outcome.handled
    author = rewarded["author_id"]
    response = await client.get(
        f"/members/{author}/honours",
        headers=auth(org=ROLLING, roles=["member"], member_id=author),
    )

    [honour] = response.json()["items"]
    assert (honour["kind"], honour["source_id"], honour["amount_fen"]) == (
        "proposal_reward",
        pid,
        20_000,
    )


async def test_text_with_a_nul_or_a_bidirectional_override_is_422_naming_the_field(
    app, client, bus, auth
) -> None:
    member_id = await _register(bus)
    author = auth(org=ROLLING, roles=["member"], member_id=member_id)

    nul = await client.post("/proposals", json=_proposal(problem="a\x00b"), headers=author)
    bidi = await client.post("/proposals", json=_proposal(title="abc\u202edef"), headers=author)

    assert [e["field"] for e in nul.json()["errors"]] == ["problem"]
    assert [e["field"] for e in bidi.json()["errors"]] == ["title"]
    assert (nul.status_code, bidi.status_code) == (422, 422)
