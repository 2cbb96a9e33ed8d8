"""Certificates at the home node: issued for a completion (fed through the `learning`
consumer), listed in cursor pages, a PDF for the member and their cadres only, and a public
verification endpoint that needs no token and tells nothing but name, programme, date and
validity."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from enrollment.certificate_pdf import (
    CertificateView,
    FontChoice,
    choose_fonts,
    render_certificate,
)
from enrollment.domain.learning import looks_like_a_code
from enrollment.models import Certificate
from shared.contracts import topics
from shared.contracts.envelope import envelope_for
from shared.contracts.events import EnrollmentCompleted, EnrollmentCompletionRevoked
from shared.testing import completion, completion_revoked, record_for
from shared.web.guards import public_prefixes

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
EMAIL = "wang.xiaoming@hzsteel.example"
PHONE = "+86 571 1234"


async def _member(node, token, home_org: str = "hzsteel-rolling", name: str = "Wang Xiaoming"):
    response = await node.client.post(
        "/members",
        json={"home_org": home_org, "name": name, "email": EMAIL, "phone": PHONE},
        headers=token(home_org, "cadre"),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["member_id"])


def _completed(member_id: str, **overrides) -> EnrollmentCompleted:
    contest = {"programme_kind": "skills_competition", "score": 95.0, "rank": 1}
    return completion(member_id, NOW, **(contest | overrides))


def _revoked(done: EnrollmentCompleted) -> EnrollmentCompletionRevoked:
    return completion_revoked(done, NOW + timedelta(days=2))


async def _feed(node, event) -> None:
    consumer = next(c for c in node.app.state.runtime.consumers if c.spec.name == "learning")
    envelope = envelope_for(event, source="bigschool/zj/enrollment", at=NOW)
    await consumer.process(record_for(event, envelope, topic=topics.ENROLLMENT))


async def _certificates(node, member_id: str) -> list[Certificate]:
    async with node.db.sessions() as session:
        stmt = select(Certificate).where(Certificate.member_id == member_id)
        return list((await session.execute(stmt.order_by(Certificate.issued_at))).scalars())


@pytest.fixture
async def certified(node, token) -> tuple[str, EnrollmentCompleted, Certificate]:
    """A member of hzsteel-rolling with one completion and its certificate."""
    member_id = await _member(node, token)
    done = _completed(member_id)
    await _feed(node, done)
    [certificate] = await _certificates(node, member_id)
    return member_id, done, certificate


# -- public verification -----------------------------------------------------------------------


async def test_a_code_verifies_without_a_token_and_shows_no_contact_data(node, certified) -> None:
    member_id, done, certificate = certified

    response = await node.client.get(f"/certificates/verify/{certificate.verification_code}")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "holder_display_name": "Wang Xiaoming",
        "programme_title": "Safe crane operation",
        "completion_date": "2027-03-01",
        "valid": True,
        "revoked_at": None,
    }
    for secret in (EMAIL, PHONE, member_id, done.enrollment_id, certificate.certificate_id):
        assert secret not in response.text
    assert response.headers["cache-control"] == "no-store"


async def test_a_revoked_certificate_verifies_as_revoked(node, certified) -> None:
    _, done, certificate = certified

    await _feed(node, _revoked(done))

    body = (await node.client.get(f"/certificates/verify/{certificate.verification_code}")).json()
    assert body["valid"] is False
    assert body["revoked_at"].startswith("2027-03-03T08:00:00")


@pytest.mark.parametrize(
    "code",
    ["A" * 32, "short", "x" * 65, "not a code!", "..%2F..%2Fetc"],
    ids=["unknown", "too-short", "too-long", "not-url-safe", "traversal"],
)
async def test_an_unknown_or_malformed_code_is_404(node, certified, code: str) -> None:
    response = await node.client.get(f"/certificates/verify/{code}")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_verification_code_is_random_url_safe_and_long(node, token) -> None:
    member_id = await _member(node, token)
    for _ in range(3):
        await _feed(node, _completed(member_id))

    codes = [c.verification_code for c in await _certificates(node, member_id)]

    assert len(set(codes)) == 3
    assert all(len(code) >= 20 and looks_like_a_code(code) for code in codes)


async def test_the_public_prefix_opens_no_other_certificate_route(node, certified) -> None:
    member_id, _, certificate = certified

    for path in (
        f"/certificates/{certificate.certificate_id}.pdf",
        f"/members/{member_id}/certificates",
        f"/members/{member_id}/learning-record",
        "/certificates/verify",  # the prefix without its slash is not under it
    ):
        assert (await node.client.get(path)).status_code == 401, path


@pytest.mark.parametrize("prefix", ["", "/", "certificates/verify/", "/certificates/verify"])
def test_a_public_prefix_must_name_whole_path_segments(prefix: str) -> None:
    with pytest.raises(ValueError):
        public_prefixes([prefix])


# -- the PDF -----------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", ["the member", "a cadre of the home org"])
async def test_the_pdf_is_a_pdf_with_the_verification_code(
    node, token, certified, reader: str
) -> None:
    member_id, _, certificate = certified
    headers = {
        "the member": token("hzsteel-rolling", "member", member_id=member_id),
        "a cadre of the home org": token("hzsteel-rolling", "cadre"),
    }[reader]

    response = await node.client.get(
        f"/certificates/{certificate.certificate_id}.pdf", headers=headers
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response.content.rstrip().endswith(b"%%EOF")
    assert certificate.verification_code.encode() in response.content
    # The QR code's link: the public verification URL on the configured base.
    assert (
        f"http://127.0.0.1:8001/certificates/verify/{certificate.verification_code}".encode()
        in (response.content)
    )


@pytest.mark.parametrize(
    "reader",
    ["another member", "a cadre of a sibling org", "a cadre of the enterprise above"],
)
async def test_no_one_else_may_fetch_the_pdf(node, token, certified, reader: str) -> None:
    _, _, certificate = certified
    other_id = await _member(node, token, name="Li Lei")
    headers = {
        "another member": token("hzsteel-rolling", "member", member_id=other_id),
        "a cadre of a sibling org": token("hzsteel-casting", "cadre"),
        "a cadre of the enterprise above": token("hzsteel", "cadre"),
    }[reader]

    response = await node.client.get(
        f"/certificates/{certificate.certificate_id}.pdf", headers=headers
    )

    assert response.status_code == 404


async def test_an_unknown_certificate_pdf_is_404(node, token) -> None:
    response = await node.client.get(
        f"/certificates/{uuid.uuid4()}.pdf", headers=token("hzsteel-rolling", "cadre")
    )

    assert response.status_code == 404


async def test_a_revoked_certificates_pdf_still_renders(node, token, certified) -> None:
    member_id, done, certificate = certified
    await _feed(node, _revoked(done))

    response = await node.client.get(
        f"/certificates/{certificate.certificate_id}.pdf",
        headers=token("hzsteel-rolling", "member", member_id=member_id),
    )

    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")


# -- listing, and a completion recorded again ---------------------------------------------------


async def test_a_members_certificates_come_in_cursor_pages_newest_first(node, token) -> None:
    member_id = await _member(node, token)
    for _ in range(3):
        await _feed(node, _completed(member_id))
    headers = token("hzsteel-rolling", "member", member_id=member_id)
    url = f"/members/{member_id}/certificates"

    first = (await node.client.get(url, params={"limit": 2}, headers=headers)).json()
    cursor = first["next_cursor"]
    second = await node.client.get(url, params={"limit": 2, "cursor": cursor}, headers=headers)

    items = first["items"] + second.json()["items"]
    expected = [c.certificate_id for c in reversed(await _certificates(node, member_id))]
    assert [i["certificate_id"] for i in items] == expected
    assert second.json()["next_cursor"] is None
    assert items[0]["valid"] is True
    assert items[0]["verification_url"].endswith(
        f"/certificates/verify/{items[0]['verification_code']}"
    )
    assert items[0]["pdf_url"] == f"/certificates/{items[0]['certificate_id']}.pdf"


async def test_the_certificate_list_is_404_for_someone_else(node, token, certified) -> None:
    member_id, _, _ = certified

    response = await node.client.get(
        f"/members/{member_id}/certificates", headers=token("hzsteel-casting", "cadre")
    )

    assert response.status_code == 404


async def test_a_completion_recorded_again_after_a_revocation_gets_a_new_certificate(
    node, certified
) -> None:
    member_id, done, old = certified
    await _feed(node, _revoked(done))

    await _feed(node, done.model_copy(update={"score": 90.0}))

    certificates = await _certificates(node, member_id)
    assert len(certificates) == 2
    [new] = [c for c in certificates if c.revoked_at is None]
    assert new.certificate_id != old.certificate_id
    assert new.verification_code != old.verification_code
    old_says = await node.client.get(f"/certificates/verify/{old.verification_code}")
    new_says = await node.client.get(f"/certificates/verify/{new.verification_code}")
    assert (old_says.json()["valid"], new_says.json()["valid"]) == (False, True)


async def test_the_verification_url_uses_the_configured_public_base(
    settings, make_service, token
) -> None:
    public = settings.model_copy(update={"public_base_url": "https://learn.hzsteel.example/"})
    service = await make_service(public)
    member_id = await _member(service, token)
    await _feed(service, _completed(member_id))

    response = await service.client.get(
        f"/members/{member_id}/certificates", headers=token("hzsteel-rolling", "cadre")
    )

    [item] = response.json()["items"]
    assert item["verification_url"] == (
        f"https://learn.hzsteel.example/certificates/verify/{item['verification_code']}"
    )


async def test_a_batch_with_a_completion_its_revocation_and_the_completion_again(
    node, token, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="shared.messaging.consumer")
    member_id = await _member(node, token)
    done = _completed(member_id)
    again = done.model_copy(update={"score": 70.0})
    consumer = next(c for c in node.app.state.runtime.consumers if c.spec.name == "learning")
    records = [
        record_for(
            e,
            envelope_for(e, source="bigschool/zj/enrollment", at=NOW),
            offset=n,
            topic=topics.ENROLLMENT,
        )
        for n, e in enumerate([done, _revoked(done), again])
    ]

    result = await consumer.process_batch(records)

    assert (result.done, result.complete) == (3, True)
    assert "fell back" not in caplog.text  # in one transaction: the revocation flushed first
    certificates = await _certificates(node, member_id)
    assert len(certificates) == 2
    assert len([c for c in certificates if c.revoked_at is None]) == 1


@pytest.mark.parametrize("fonts", ["found here", "none at all"])
def test_a_chinese_name_renders_with_the_fonts_found_or_with_none(fonts: str) -> None:
    view = CertificateView(
        certificate_id=str(uuid.uuid4()),
        holder_name="王小明",
        programme_title="起重机安全操作",
        programme_kind="training_course",
        quality_area="safety_health",
        hours=8,
        completed_on=NOW.date(),
        score=None,
        rank=None,
        verification_code="c" * 32,
        verification_url="http://127.0.0.1:8001/certificates/verify/" + "c" * 32,
        revoked_on=NOW.date(),
        language="zh",
    )
    choice = choose_fonts(None) if fonts == "found here" else FontChoice((), cjk=False)

    pdf = render_certificate(view, choice)

    assert pdf.startswith(b"%PDF-") and b"c" * 32 in pdf
