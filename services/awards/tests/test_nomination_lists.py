"""`GET /nominations`: the nominations each caller works on — a cadre's org's (filed,
endorsed or owned), a scheme staff member's, with recusal marked for a panel reviewer — and
403 for anyone else. The scheme belongs to zj (node zj); the nominee to hzsteel-rolling
(node hzsteel), endorsed by hzsteel."""

from __future__ import annotations

HOME = "hzsteel-rolling"


async def _ids(client, headers, **params) -> list[str]:
    got = await client.get("/nominations", headers=headers, params=params)
    assert got.status_code == 200, got.text
    return [n["nomination_id"] for n in got.json()["items"]]


async def test_each_cadre_lists_the_nominations_their_org_files_endorses_or_owns(
    federation, at, kit
) -> None:
    scheme_id, round_id = await kit.scheme_and_round()
    filed = await kit.file(scheme_id, round_id, await kit.member())
    nomination = filed.json()["nomination_id"]
    await federation.flush()
    hz, zj = federation["hzsteel"].client, federation["zj"].client

    assert await _ids(hz, at("hzsteel", HOME, "cadre")) == [nomination]
    assert await _ids(hz, at("hzsteel", "hzsteel", "cadre")) == [nomination]  # endorses it
    assert await _ids(zj, at("zj", "zj", "cadre")) == [nomination]  # owns it
    assert await _ids(hz, at("hzsteel", "hzsteel-smelting", "cadre")) == []  # a sibling
    assert await _ids(hz, at("hzsteel", HOME, "cadre"), status="granted") == []
    member = await hz.get("/nominations", headers=at("hzsteel", HOME, "member", member_id="m1"))
    assert member.status_code == 403


async def test_a_reviewer_lists_their_schemes_nominations_with_recusal_marked(
    federation, at, kit
) -> None:
    scheme_id, round_id = await kit.scheme_and_round()
    filed = await kit.file(scheme_id, round_id, await kit.member())
    await federation.flush()
    zj = federation["zj"].client

    def listed(sub: str) -> dict[str, object]:
        return at("zj", "zj", "reviewer", sub=sub)

    for sub, recused in (("rev-a", False), ("rev-c", True), ("di-officer", None)):
        got = await zj.get("/nominations", headers=listed(sub))
        assert got.status_code == 200, got.text
        [item] = got.json()["items"]
        assert item["nomination_id"] == filed.json()["nomination_id"]
        assert item["recused"] is recused, sub
    stranger = await zj.get("/nominations", headers=listed("rev-nobody"))
    assert stranger.json()["items"] == []


async def test_the_list_pages_by_cursor(federation, at, kit) -> None:
    scheme_id, round_id = await kit.scheme_and_round()
    filed = [await kit.file(scheme_id, round_id, await kit.member()) for _ in range(3)]
    await federation.flush()
    hz = federation["hzsteel"].client
    headers = at("hzsteel", HOME, "cadre")
    first = (await hz.get("/nominations", headers=headers, params={"limit": 2})).json()
    rest = await hz.get(
        "/nominations", headers=headers, params={"limit": 2, "cursor": first["next_cursor"]}
    )
    seen = [n["nomination_id"] for n in first["items"] + rest.json()["items"]]
    assert sorted(seen) == sorted(f.json()["nomination_id"] for f in filed)
    assert rest.json()["next_cursor"] is None
