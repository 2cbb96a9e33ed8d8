"""A nomination across three levels, each step at the node that owns it: filed at the
grassroots org (node hzsteel), endorsed by the enterprise (node hzsteel), checked by the veto
departments and reviewed at the scheme owner (node zj) — over the in-process broker of the
`federation` fixture."""

from __future__ import annotations

from sqlalchemy import inspect, select

from awards.models import Dossier, MemberReplica, Nomination

HOME = "hzsteel-rolling"


async def _state(node, nomination_id: str) -> Nomination:
    async with node.app.state.runtime.db.reading() as session:
        row = await session.get(Nomination, nomination_id)
    assert row is not None
    return row


async def test_a_nomination_climbs_three_levels_each_step_at_its_own_node(
    federation, at, kit
) -> None:
    scheme_id, round_id = await kit.scheme_and_round()
    member_id = await kit.member()
    hz, zj = federation["hzsteel"].client, federation["zj"].client

    filed = await kit.file(scheme_id, round_id, member_id)
    assert filed.status_code == 202, filed.text
    nomination_id = filed.json()["nomination_id"]
    assert filed.json()["status"] == "filed"
    assert filed.headers["location"] == f"/nominations/{nomination_id}"
    await federation.flush()

    # The owner admitted it; the enterprise's endorsement is next, on both nodes alike.
    for node in ("hzsteel", "zj"):
        row = await _state(federation[node], nomination_id)
        assert (row.status, row.stages, row.stage_index) == ("endorsing", ["hzsteel"], 0)
    enterprise = at("hzsteel", "hzsteel", "cadre")
    returned = await hz.post(
        f"/nominations/{nomination_id}/return",
        json={"reasons": "Add the scrap-rate figures."},
        headers=enterprise,
    )
    assert returned.status_code == 200 and returned.json()["status"] == "returned"
    resubmitted = await hz.post(
        f"/nominations/{nomination_id}/resubmit",
        json={"achievements": "Cut scrap from 3.1% to 2.0% in 2025.", "note": "figures added"},
        headers=at("hzsteel", HOME, "cadre"),
    )
    assert resubmitted.status_code == 200, resubmitted.text
    assert (resubmitted.json()["status"], resubmitted.json()["version"]) == ("endorsing", 2)
    endorsed = await hz.post(f"/nominations/{nomination_id}/endorse", json={}, headers=enterprise)
    assert endorsed.json()["status"] == "veto_check"
    await federation.flush()

    officer = at("zj", "zj", "reviewer", sub="di-officer")
    cleared = await zj.post(
        f"/nominations/{nomination_id}/veto-checks",
        json={"department": "discipline", "vetoed": False},
        headers=officer,
    )
    assert cleared.status_code == 200 and cleared.json()["status"] == "in_review"
    recused = await zj.post(
        f"/nominations/{nomination_id}/reviews",
        json={"score": 99},
        headers=at("zj", "hzsteel", "reviewer", sub="rev-c"),
    )
    assert recused.status_code == 403 and "recused" in recused.json()["detail"]
    for reviewer, score in (("rev-a", 91), ("rev-b", 87)):
        scored = await zj.post(
            f"/nominations/{nomination_id}/reviews",
            json={"score": score, "comment": "Solid record."},
            headers=at("zj", "zj", "reviewer", sub=reviewer),
        )
        assert scored.status_code == 200, scored.text
    await federation.flush()

    seen = await zj.get(f"/nominations/{nomination_id}", headers=at("zj", "zj", "cadre"))
    body = seen.json()
    assert [r["score"] for r in body["reviews"]] == [91, 87]
    assert body["dossier"]["version"] == 2
    assert body["dossier"]["nominees"] == [{"member_id": member_id, "display_name": "王芳"}]
    assert body["dossier"]["cited_facts"][0]["hours"] == 130.0
    trail = await hz.get(f"/nominations/{nomination_id}/trail", headers=enterprise)
    assert [s["ce_type"].split(".")[2] for s in trail.json()] == [
        "nomination_filed",
        "nomination_admitted",
        "nomination_returned",
        "nomination_resubmitted",
        "nomination_endorsed",
        "nomination_veto_cleared",
        "nomination_reviewed",
        "nomination_reviewed",
    ]
    assert trail.json()[2]["reason"] == "Add the scrap-rate figures."
    assert trail.json()[2]["actor_org"] == "hzsteel"


async def test_the_superior_node_never_holds_the_nominees_contact_data(federation, at, kit) -> None:
    scheme_id, round_id = await kit.scheme_and_round()
    member_id = await kit.member()
    filed = await kit.file(scheme_id, round_id, member_id)
    await federation.flush()

    async with federation["zj"].app.state.runtime.db.reading() as session:
        assert (await session.execute(select(MemberReplica))).first() is None
        dossiers = list((await session.execute(select(Dossier))).scalars())
    assert [d.nomination_id for d in dossiers] == [filed.json()["nomination_id"]]
    text = repr([{c.key: getattr(d, c.key) for c in inspect(Dossier).columns} for d in dossiers])
    assert "wangfang@example.com" not in text and "王芳" in text
    elsewhere = await federation["oc"].client.get(
        f"/nominations/{filed.json()['nomination_id']}", headers=at("oc", "otherco", "cadre")
    )
    assert elsewhere.status_code == 404
    async with federation["oc"].app.state.runtime.db.reading() as session:
        assert (await session.execute(select(Nomination))).first() is None


async def test_a_nomination_over_its_sub_orgs_quota_is_refused(federation, at, kit) -> None:
    scheme_id, round_id = await kit.scheme_and_round()
    first = await kit.file(scheme_id, round_id, await kit.member())
    casting = await kit.member("hzsteel-casting")
    second = await kit.file(scheme_id, round_id, casting, org="hzsteel-casting")
    assert second.status_code == 202
    await federation.flush()

    assert (
        await _state(federation["hzsteel"], first.json()["nomination_id"])
    ).status == "endorsing"
    refused = await _state(federation["hzsteel"], second.json()["nomination_id"])
    assert refused.status == "refused"
    trail = await federation["hzsteel"].client.get(
        f"/nominations/{refused.nomination_id}/trail",
        headers=at("hzsteel", "hzsteel-casting", "cadre"),
    )
    assert trail.json()[-1]["detail"]["refusal"] == "quota_full"
    assert "hzsteel" in trail.json()[-1]["reason"]


async def test_a_member_is_nominated_once_a_round(federation, at, kit) -> None:
    scheme_id, round_id = await kit.scheme_and_round(quotas=[])
    member_id = await kit.member()
    await kit.file(scheme_id, round_id, member_id)
    again = await kit.file(scheme_id, round_id, member_id)
    await federation.flush()

    row = await _state(federation["hzsteel"], again.json()["nomination_id"])
    assert row.status == "refused"


async def test_a_nominee_short_of_the_training_hours_is_refused_with_the_figures(
    federation, at, kit
) -> None:
    scheme_id, round_id = await kit.scheme_and_round()
    member_id = await kit.member(hours=96.0)

    filed = await kit.file(scheme_id, round_id, member_id)

    assert filed.status_code == 422
    assert filed.json()["errors"][0]["field"] == "member_ids[0]"
    assert "min_training_hours" in filed.json()["detail"] and "96" in filed.json()["detail"]


async def test_a_nominee_without_the_prerequisite_title_is_refused(federation, at, kit) -> None:
    criteria = {"prerequisite_kinds": ["skilled_craftsman"]}
    scheme_id, round_id = await kit.scheme_and_round(criteria=criteria)
    member_id = await kit.member()

    filed = await kit.file(scheme_id, round_id, member_id)

    assert filed.status_code == 422
    assert "prerequisite_kinds" in filed.json()["detail"]


async def test_a_veto_stops_the_nomination_with_its_reason(federation, at, kit) -> None:
    scheme_id, round_id = await kit.scheme_and_round(endorse_levels=[])
    filed = await kit.file(scheme_id, round_id, await kit.member())
    nomination_id = filed.json()["nomination_id"]
    await federation.flush()
    zj = federation["zj"].client
    officer = at("zj", "zj", "reviewer", sub="di-officer")

    no_reason = await zj.post(
        f"/nominations/{nomination_id}/veto-checks",
        json={"department": "discipline", "vetoed": True},
        headers=officer,
    )
    vetoed = await zj.post(
        f"/nominations/{nomination_id}/veto-checks",
        json={"department": "discipline", "vetoed": True, "reason": "Open disciplinary case."},
        headers=officer,
    )
    await federation.flush()

    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    assert vetoed.json()["status"] == "vetoed"
    home = await _state(federation["hzsteel"], nomination_id)
    assert home.status == "vetoed"
    scored = await zj.post(
        f"/nominations/{nomination_id}/reviews",
        json={"score": 80},
        headers=at("zj", "zj", "reviewer", sub="rev-a"),
    )
    assert scored.status_code == 409


async def test_only_the_stage_org_endorses_and_only_the_home_org_resubmits(
    federation, at, kit
) -> None:
    scheme_id, round_id = await kit.scheme_and_round()
    filed = await kit.file(scheme_id, round_id, await kit.member())
    nomination_id = filed.json()["nomination_id"]
    await federation.flush()
    hz = federation["hzsteel"].client

    by_home = await hz.post(
        f"/nominations/{nomination_id}/endorse", json={}, headers=at("hzsteel", HOME, "cadre")
    )
    by_stranger = await hz.post(
        f"/nominations/{nomination_id}/endorse",
        json={},
        headers=at("hzsteel", "hzsteel-casting", "cadre"),
    )
    resubmit_early = await hz.post(
        f"/nominations/{nomination_id}/resubmit",
        json={"achievements": "more"},
        headers=at("hzsteel", HOME, "cadre"),
    )

    assert by_home.status_code == 403  # may see it (their member), may not endorse
    assert by_stranger.status_code == 404  # another workshop: not theirs to see
    assert resubmit_early.status_code == 409  # not returned


async def test_a_team_is_nominated_with_every_member_meeting_the_criteria(
    federation, at, kit
) -> None:
    scheme_id, round_id = await kit.scheme_and_round(nominee="team", quotas=[])
    crew = [await kit.member(), await kit.member()]
    short = await kit.member(hours=20.0)
    body = {
        "scheme_id": scheme_id,
        "round_id": round_id,
        "team_name": "No. 2 rolling line crew",
        "achievements": "Zero lost-time injuries for 1,000 days.",
    }
    hz, cadre = federation["hzsteel"].client, at("hzsteel", HOME, "cadre")

    nameless = await hz.post(
        "/nominations", json=body | {"member_ids": crew, "team_name": None}, headers=cadre
    )
    one_short = await hz.post(
        "/nominations", json=body | {"member_ids": [*crew, short]}, headers=cadre
    )
    filed = await hz.post("/nominations", json=body | {"member_ids": crew}, headers=cadre)
    await federation.flush()

    assert nameless.status_code == 422 and nameless.json()["errors"][0]["field"] == "team_name"
    assert one_short.status_code == 422
    assert one_short.json()["errors"][0]["field"] == "member_ids[2]"
    row = await _state(federation["zj"], filed.json()["nomination_id"])
    assert (row.nominee, row.team_name, row.member_ids) == ("team", "No. 2 rolling line crew", crew)
    assert row.status == "endorsing"
    seen = await federation["zj"].client.get(
        f"/nominations/{row.nomination_id}", headers=at("zj", "zj", "cadre")
    )
    assert len(seen.json()["dossier"]["nominees"]) == 2
