"""Idempotency-Key on POST: a retried request does nothing twice and gets the first answer;
the same key for another request is a 409; keys are per caller and expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from enrollment.models import IDEMPOTENCY_KEYS, MESSAGING, Member, Programme
from shared.auth.principal import Principal
from shared.clock import FixedClock
from shared.db import Database

PROBLEM = "application/problem+json"
KEY = "5f0c7a52-3a1e-4c39-9d7e-1b2b7e0f4a11"
MEMBER = {"home_org": "hzsteel-rolling", "name": "Li Lei", "email": "li@example.org"}


async def _count(db: Database, what) -> int:
    async with db.reading() as session:
        return (await session.execute(select(func.count()).select_from(what))).scalar_one()


def _with_key(headers: dict[str, str], key: str = KEY) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def test_the_same_key_and_body_twice_creates_once_and_replays_the_first_answer(
    node, token, programme_body
) -> None:
    headers = _with_key(token("hzsteel", "cadre"))
    body = programme_body()

    first = await node.client.post("/programmes", json=body, headers=headers)
    again = await node.client.post("/programmes", json=body, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await _count(node.db, Programme) == 1
    assert await _count(node.db, MESSAGING.outbox) == 1


async def test_a_replay_repeats_the_location_of_the_first_answer(node, token) -> None:
    cadre = token("hzsteel-rolling", "cadre")
    member = (await node.client.post("/members", json=MEMBER, headers=cadre)).json()
    programme = await node.client.post(
        "/programmes",
        json={
            "owner_org": "hzsteel",
            "title": "Crane safety",
            "kind": "training_course",
            "quality_area": "safety_health",
            "capacity": 5,
            "hours": 4,
            "starts_at": "2030-05-01T01:00:00+00:00",
            "ends_at": "2030-05-01T05:00:00+00:00",
        },
        headers=token("hzsteel", "cadre"),
    )
    body = {"programme_id": programme.json()["programme_id"], "member_id": member["member_id"]}

    first = await node.client.post("/enrollments", json=body, headers=_with_key(cadre))
    again = await node.client.post("/enrollments", json=body, headers=_with_key(cadre))

    assert first.status_code == again.status_code == 202
    assert again.headers["location"] == first.headers["location"]
    assert again.json() == first.json()


async def test_the_same_key_with_another_body_is_a_409_naming_the_header(
    node, token, programme_body
) -> None:
    headers = _with_key(token("hzsteel", "cadre"))
    await node.client.post("/programmes", json=programme_body(), headers=headers)

    other = await node.client.post(
        "/programmes", json=programme_body(title="Another course"), headers=headers
    )

    assert other.status_code == 409
    assert other.headers["content-type"] == PROBLEM
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert KEY not in other.text
    assert await _count(node.db, Programme) == 1


async def test_the_same_key_on_another_path_is_another_request(node, token) -> None:
    headers = _with_key(token("hzsteel-rolling", "cadre"))
    await node.client.post("/members", json=MEMBER, headers=headers)

    other = await node.client.post("/programmes", json=MEMBER, headers=headers)

    assert other.status_code == 409


async def test_two_callers_may_use_the_same_key_for_their_own_requests(
    node, token, programme_body
) -> None:
    one = _with_key(token("hzsteel", "cadre", sub="one"))
    two = _with_key(token("hzsteel", "cadre", sub="two"))

    first = await node.client.post("/programmes", json=programme_body(), headers=one)
    second = await node.client.post("/programmes", json=programme_body(), headers=two)

    assert first.status_code == second.status_code == 201
    assert first.json()["programme_id"] != second.json()["programme_id"]
    assert "idempotent-replayed" not in second.headers


async def test_a_failed_request_keeps_nothing_so_the_key_is_free_for_the_retry(
    node, token, programme_body
) -> None:
    headers = _with_key(token("hzsteel", "cadre"))

    refused = await node.client.post(
        "/programmes", json=programme_body(audience=["ghost"]), headers=headers
    )
    fixed = await node.client.post("/programmes", json=programme_body(), headers=headers)

    assert refused.status_code == 422
    assert fixed.status_code == 201
    assert "idempotent-replayed" not in fixed.headers
    assert await _count(node.db, IDEMPOTENCY_KEYS) == 1


async def test_a_key_that_took_effect_without_a_recorded_answer_is_a_409_saying_so(
    node, token, programme_body
) -> None:
    headers = _with_key(token("hzsteel", "cadre"))
    first = await node.client.post("/programmes", json=programme_body(), headers=headers)
    # As if the process died between the commit and recording the answer.
    async with node.db.transaction() as session:
        await session.execute(IDEMPOTENCY_KEYS.update().values(status=None, body=None))

    again = await node.client.post("/programmes", json=programme_body(), headers=headers)

    assert first.status_code == 201
    assert again.status_code == 409
    assert "not recorded" in again.json()["detail"]


async def test_an_expired_key_is_a_new_request(
    settings, make_service, token, programme_body
) -> None:
    clock = FixedClock(datetime(2030, 1, 6, 9, 0, tzinfo=UTC))
    service = await make_service(settings, clock)
    headers = _with_key(token("hzsteel", "cadre"))
    first = await service.client.post("/programmes", json=programme_body(), headers=headers)

    clock.at += timedelta(hours=24, seconds=1)
    later = await service.client.post("/programmes", json=programme_body(), headers=headers)

    assert first.status_code == later.status_code == 201
    assert "idempotent-replayed" not in later.headers
    assert later.json()["programme_id"] != first.json()["programme_id"]
    assert await _count(service.db, IDEMPOTENCY_KEYS) == 1


async def test_a_key_is_remembered_until_it_expires(
    settings, make_service, token, programme_body
) -> None:
    clock = FixedClock(datetime(2030, 1, 6, 9, 0, tzinfo=UTC))
    service = await make_service(settings, clock)
    headers = _with_key(token("hzsteel", "cadre"))
    await service.client.post("/programmes", json=programme_body(), headers=headers)

    clock.at += timedelta(hours=23, minutes=59)
    again = await service.client.post("/programmes", json=programme_body(), headers=headers)

    assert again.headers["idempotent-replayed"] == "true"


async def test_a_key_must_be_1_to_255_printable_ascii_characters(node, token) -> None:
    cadre = token("hzsteel-rolling", "cadre")
    for bad in ["", "x" * 256, "tab\there"]:
        response = await node.client.post("/members", json=MEMBER, headers=_with_key(cadre, bad))

        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await _count(node.db, Member) == 0


async def test_a_post_without_a_key_is_not_remembered(node, token) -> None:
    cadre = token("hzsteel-rolling", "cadre")

    await node.client.post("/members", json=MEMBER, headers=cadre)
    await node.client.post("/members", json=MEMBER, headers=cadre)

    assert await _count(node.db, Member) == 2
    assert await _count(node.db, IDEMPOTENCY_KEYS) == 0


async def test_keys_are_stored_per_caller_without_the_callers_name(
    node, token, programme_body
) -> None:
    await node.client.post(
        "/programmes",
        json=programme_body(),
        headers=_with_key(token("hzsteel", "cadre", sub="cadre@hzsteel")),
    )

    async with node.db.reading() as session:
        [row] = (await session.execute(select(IDEMPOTENCY_KEYS))).all()
    caller = Principal(sub="cadre@hzsteel", org="hzsteel", roles=frozenset()).caller_key
    assert row.caller == caller
    assert "cadre@hzsteel" not in row.caller


async def test_the_openapi_document_declares_the_header_on_every_post(node) -> None:
    spec = (await node.client.get("/openapi.json")).json()

    posts = [ops["post"] for ops in spec["paths"].values() if "post" in ops]
    assert posts
    for operation in posts:
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert names.count("Idempotency-Key") == 1


async def test_an_unrecorded_row_of_another_caller_does_not_block_this_one(
    node, token, programme_body
) -> None:
    async with node.db.transaction() as session:
        await session.execute(
            insert(IDEMPOTENCY_KEYS).values(
                caller="0" * 64,
                key=KEY,
                fingerprint="f" * 64,
                created_at=datetime.now(UTC),
            )
        )

    response = await node.client.post(
        "/programmes", json=programme_body(), headers=_with_key(token("hzsteel", "cadre"))
    )

    assert response.status_code == 201
