# Chinese text takes full-width punctuation: correct here, not a look-alike typo.
"""Who must act is told: each needs-action event reaches the staff of the org that must act
and has the duty — nobody else — once per channel, in their language, in their inbox; and
the staff directory that says who they are is the org's cadres' to keep."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from deploy.local.smtp import SmtpSink
from notifications.domain.notices import (
    APPROVAL_NEEDED,
    ENDORSEMENT_NEEDED,
    OBJECTION_FILED,
    REVIEW_NEEDED,
    VETO_CHECK_NEEDED,
)
from notifications.domain.staff import staff_recipient_id
from notifications.models import Recipient
from notifications.service.staff_rules import STAFF, plan_staff_notices
from notifications.templates import TEMPLATES
from shared.auth.tokens import issue_token
from shared.contracts.base import Event
from shared.contracts.envelope import envelope_for
from shared.contracts.events import (
    EnrollmentPendingApproval,
    NominationAdmitted,
    NominationEndorsed,
    NominationReviewed,
    NominationVetoCleared,
    Nominee,
    NoticeEntry,
    NoticePublished,
    ObjectionSubmitted,
    ProgrammePublished,
    QualityArea,
    SchemeKind,
    SchemePublished,
)
from shared.contracts.events.nominations import NominationState
from shared.messaging.consumer import Outcome

AT = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)  # the conftest clock's start
PLACEHOLDER = re.compile(r"\{[A-Za-z_]+\}")
HAN = re.compile(r"[\u4e00-\u9fff]")
PROGRAMME_ID = "prog-crane-7"
PROGRAMME_TITLE = "Safe crane operation"
SCHEME_ID = "model-worker"
SCHEME_TITLE = "Model Worker 2025"


@pytest.fixture
async def api(node: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=node.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def token(node: Any, *, org: str, sub: str, roles: list[str], member_id: str | None = None) -> str:
    keys = node.app.state.test_keys
    return issue_token(
        keys.private_pem,
        kid=keys.kid,
        issuer=node.settings.jwt_issuer,
        node="n1",
        sub=sub,
        org=org,
        roles=roles,
        member_id=member_id,
    )


def as_cadre(node: Any, org: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(node, org=org, sub=f'cadre-{org}', roles=['cadre'])}"}


def as_staff(node: Any, org: str, sub: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(node, org=org, sub=sub, roles=['reviewer'])}"}


async def add_staff(
    node: Any,
    api: httpx.AsyncClient,
    org: str,
    sub: str,
    duties: list[str],
    language: str = "zh",
) -> str:
    """A staff member of `org` with `duties`, added by a cadre of the org; their address."""
    email = f"{sub}@{org}.example.org"
    body = {"name": sub.title(), "email": email, "language": language, "duties": duties}
    response = await api.put(f"/orgs/{org}/staff/{sub}", json=body, headers=as_cadre(node, org))
    assert response.status_code == 200, response.text
    return email


def state(status: str, *, stage_index: int = 0, stages: list[str] | None = None) -> NominationState:
    return NominationState(
        nomination_id="nom-42",
        scheme_id=SCHEME_ID,
        round_id="2025",
        owner_org="fed",
        home_org="steel-rolling",
        nominee="team",
        member_ids=[str(uuid.uuid4())],
        team_name="Crane crew 3",
        stages=["steel"] if stages is None else stages,
        status=status,
        stage_index=stage_index,
    )


def step(model: type[Any], status: str, **fields: Any) -> Callable[[], Event]:
    def make() -> Event:
        values: dict[str, Any] = {
            "state": state(status, **fields.pop("state", {})),
            "step": 3,
            "actor": "cadre-x",
            "actor_org": "steel-rolling",
            "at": AT,
            **fields,
        }
        event: Event = model(**values)
        return event

    return make


def approval() -> Event:
    return EnrollmentPendingApproval(
        enrollment_id=str(uuid.uuid4()),
        programme_id=PROGRAMME_ID,
        member_id=str(uuid.uuid4()),
        owner_org="steel",
        home_org="steel-rolling",
        requested_at=AT,
    )


def objection() -> Event:
    return ObjectionSubmitted(
        objection_id="obj-7",
        notice_id="notice-1",
        nomination_id="nom-42",
        owner_org="fed",
        objector_id=str(uuid.uuid4()),
        objector_org="steel-rolling",
        reasons="The dossier overstates the training hours.",
        submitted_at=AT,
    )


@dataclass(frozen=True)
class Case:
    make: Callable[[], Event]
    notice: str
    org: str  # who must act
    duties: list[str]  # the duties that are told (each is one staff member here)
    other_org: str  # a hosted org whose staff with the same duties are not told
    facts: dict[str, list[str]]  # language → what the subject names


CASES = {
    "approval": Case(
        approval,
        APPROVAL_NEEDED,
        "steel-rolling",
        ["approvals"],
        "steel",
        {"zh": ["待审批", PROGRAMME_TITLE], "en": ["Enrollment to approve", PROGRAMME_TITLE]},
    ),
    "endorsement": Case(
        step(NominationAdmitted, "endorsing", state={"stages": ["steel", "fed"]}),
        ENDORSEMENT_NEEDED,
        "steel",
        ["endorsements"],
        "fed",
        {"zh": ["待推荐审核", SCHEME_TITLE], "en": ["Nomination to endorse", SCHEME_TITLE]},
    ),
    "next endorsement": Case(
        step(NominationEndorsed, "endorsing", state={"stages": ["steel", "fed"], "stage_index": 1}),
        ENDORSEMENT_NEEDED,
        "fed",
        ["endorsements"],
        "steel",
        {"zh": ["待推荐审核", SCHEME_TITLE], "en": ["Nomination to endorse", SCHEME_TITLE]},
    ),
    "veto check": Case(
        step(NominationEndorsed, "veto_check"),
        VETO_CHECK_NEEDED,
        "fed",
        ["veto:discipline", "veto:audit"],
        "steel",
        {"zh": ["待征求意见", SCHEME_TITLE], "en": ["Veto check needed", SCHEME_TITLE]},
    ),
    "review": Case(
        step(NominationVetoCleared, "in_review", department="audit"),
        REVIEW_NEEDED,
        "fed",
        ["reviews"],
        "steel",
        {"zh": ["待评审", SCHEME_TITLE], "en": ["Nomination to review", SCHEME_TITLE]},
    ),
    "objection": Case(
        objection,
        OBJECTION_FILED,
        "fed",
        ["objections"],
        "steel",
        {"zh": ["收到异议", "nom-42"], "en": ["Objection filed", "nom-42"]},
    ),
}


async def know_titles(node: Any) -> None:
    """The programme and the scheme the notices name, as the catalogue consumer keeps them."""
    programme = ProgrammePublished(
        programme_id=PROGRAMME_ID,
        owner_org="steel",
        owner_node="n1",
        title=PROGRAMME_TITLE,
        kind="training",
        quality_area=QualityArea.safety_health,
        audience=["steel"],
        capacity=30,
        hours=12,
        starts_at=AT + timedelta(days=10),
        ends_at=AT + timedelta(days=11),
    )
    scheme = SchemePublished(
        scheme_id=SCHEME_ID,
        owner_org="fed",
        kind=SchemeKind.model_worker,
        title=SCHEME_TITLE,
        veto_departments=["discipline", "audit"],
        version=1,
        published_at=AT,
    )
    for event in (programme, scheme):
        assert await node.feed("catalogue", event) is Outcome.handled


def test_every_staff_notice_has_a_message_in_both_languages() -> None:
    for case in CASES.values():
        assert set(TEMPLATES[case.notice]) == {"zh", "en"}


@pytest.mark.parametrize("name", list(CASES))
async def test_each_case_tells_the_staff_who_must_act_once_in_their_language(
    name: str, node: Any, api: httpx.AsyncClient, smtp_sink: SmtpSink
) -> None:
    case = CASES[name]
    await know_titles(node)
    told = {}
    for n, duty in enumerate(case.duties):
        language = ("zh", "en")[n % 2]
        sub = f"{duty.replace(':', '-')}-{language}"
        told[sub] = (await add_staff(node, api, case.org, sub, [duty], language), language)
    if len(case.duties) == 1:  # one in each language
        sub = f"{case.duties[0]}-en"
        told[sub] = (await add_staff(node, api, case.org, sub, case.duties, "en"), "en")
    # Not told: the same duties at another org, other duties at this org.
    await add_staff(node, api, case.other_org, "elsewhere", case.duties)
    others = ["approvals", "endorsements", "reviews", "objections", "admin", "veto:audit"]
    await add_staff(node, api, case.org, "bystander", [d for d in others if d not in case.duties])

    event = case.make()
    event_id = str(uuid.uuid4())
    outcomes = [await node.feed(STAFF, event, event_id) for _ in range(3)]
    assert outcomes == [Outcome.handled, Outcome.duplicate, Outcome.duplicate]
    envelope = envelope_for(event, source="test", at=node.clock.now(), event_id=event_id)
    async with node.db.transaction() as session:
        assert await plan_staff_notices(session, node.ctx, event, envelope) == 0

    deliveries = await node.deliveries()
    recipients = {staff_recipient_id(case.org, sub) for sub in told}
    assert {d.member_id for d in deliveries} == recipients
    assert len(deliveries) == 2 * len(told)  # e-mail and in-app, once each
    assert {d.event_type for d in deliveries} == {case.notice}

    assert await node.dispatcher.dispatch_once() == len(deliveries)
    assert await node.dispatcher.dispatch_once() == 0
    mails = {m.rcpt_tos[0]: m for m in smtp_sink.messages}
    assert set(mails) == {address for address, _ in told.values()}
    for sub, (address, language) in told.items():
        mail = mails[address]
        body = mail.message.get_content()
        response = await api.get("/inbox", headers=as_staff(node, case.org, sub))
        assert response.status_code == 200, response.text
        [item] = response.json()["items"]
        for text in (mail.subject, body, item["title"], item["body"]):
            assert not PLACEHOLDER.search(text), text
            assert bool(HAN.search(text)) is (language == "zh"), text
        for fact in case.facts[language]:
            assert fact in mail.subject, (fact, mail.subject)
            assert fact in item["title"] or fact in item["body"]


async def test_a_veto_check_names_each_department_to_its_own_staff(
    node: Any, api: httpx.AsyncClient, smtp_sink: SmtpSink
) -> None:
    await know_titles(node)
    await add_staff(node, api, "fed", "discipline-officer", ["veto:discipline"], "en")
    await add_staff(node, api, "fed", "auditor", ["veto:audit"], "en")
    await node.feed(STAFF, step(NominationEndorsed, "veto_check")())
    await node.dispatcher.dispatch_once()
    bodies = {m.rcpt_tos[0]: m.message.get_content() for m in smtp_sink.messages}
    assert "check of discipline" in bodies["discipline-officer@fed.example.org"]
    assert "check of audit" in bodies["auditor@fed.example.org"]


async def test_a_step_that_leaves_the_nomination_waiting_where_it_was_tells_nobody_again(
    node: Any, api: httpx.AsyncClient
) -> None:
    await know_titles(node)
    await add_staff(node, api, "fed", "auditor", ["veto:audit", "reviews"])
    # One department cleared, another still checks; a reviewer scored.
    await node.feed(STAFF, step(NominationVetoCleared, "veto_check", department="audit")())
    await node.feed(STAFF, step(NominationReviewed, "in_review", score=88)())
    assert await node.deliveries() == []


async def test_an_org_of_another_node_is_not_told_here(node: Any) -> None:
    event = step(NominationAdmitted, "endorsing", state={"stages": ["mine"]})()
    assert await node.feed(STAFF, event) in (Outcome.handled, Outcome.filtered)
    assert await node.deliveries() == []


async def test_a_veto_check_waits_for_its_scheme(node: Any, api: httpx.AsyncClient) -> None:
    await add_staff(node, api, "fed", "auditor", ["veto:audit"])
    assert await node.feed(STAFF, step(NominationEndorsed, "veto_check")()) is Outcome.held


# -- the staff directory ------------------------------------------------------------------------
async def test_cadres_list_their_org_staff_by_cursor_and_nobody_else_sees_them(
    node: Any, api: httpx.AsyncClient
) -> None:
    for sub in ("a-li", "b-wang", "c-zhao"):
        await add_staff(node, api, "steel", sub, ["endorsements"])

    first = await api.get("/orgs/steel/staff?limit=2", headers=as_cadre(node, "steel"))
    assert first.status_code == 200
    page = first.json()
    assert [s["sub"] for s in page["items"]] == ["a-li", "b-wang"]
    assert page["items"][0]["email"] == "a-li@steel.example.org"
    assert page["items"][0]["duties"] == ["endorsements"]
    second = await api.get(
        f"/orgs/steel/staff?limit=2&cursor={page['next_cursor']}", headers=as_cadre(node, "steel")
    )
    assert [s["sub"] for s in second.json()["items"]] == ["c-zhao"]
    assert second.json()["next_cursor"] is None

    member = token(node, org="steel", sub="m1", roles=["member"], member_id=str(uuid.uuid4()))
    for headers in (
        as_cadre(node, "steel-rolling"),  # a cadre of another org, even one below
        {"Authorization": f"Bearer {member}"},  # a member of the org
    ):
        response = await api.get("/orgs/steel/staff", headers=headers)
        assert response.status_code == 403
        assert (await api.get("/orgs/steel/staff/a-li", headers=headers)).status_code == 403


async def test_another_orgs_cadre_cannot_change_the_directory(
    node: Any, api: httpx.AsyncClient
) -> None:
    body = {"name": "Intruder", "email": "x@example.org", "duties": ["approvals"]}
    response = await api.put("/orgs/steel/staff/x", json=body, headers=as_cadre(node, "fed"))
    assert response.status_code == 403
    await add_staff(node, api, "steel", "kept", ["approvals"])
    response = await api.delete("/orgs/steel/staff/kept", headers=as_cadre(node, "fed"))
    assert response.status_code == 403
    listed = await api.get("/orgs/steel/staff", headers=as_cadre(node, "steel"))
    assert [s["sub"] for s in listed.json()["items"]] == ["kept"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"duties": ["approvals", "sweeping"]}, "duties"),
        ({"duties": ["veto:"]}, "duties"),
        ({"email": "not an address"}, "email"),
        ({"language": "fr"}, "language"),
        ({"name": ""}, "name"),
        ({"phone": "call me"}, "phone"),
    ],
)
async def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
    change: dict[str, Any], field: str, node: Any, api: httpx.AsyncClient
) -> None:
    body = {"name": "Li Lei", "email": "li@example.org", "duties": ["approvals"], **change}
    response = await api.put("/orgs/steel/staff/li", json=body, headers=as_cadre(node, "steel"))
    assert response.status_code == 422
    assert field in response.text
    listed = await api.get("/orgs/steel/staff", headers=as_cadre(node, "steel"))
    assert listed.json()["items"] == []


async def test_an_org_this_node_does_not_host_has_no_directory_here(
    node: Any, api: httpx.AsyncClient
) -> None:
    body = {"name": "Miner", "email": "m@example.org", "duties": ["approvals"]}
    response = await api.put("/orgs/mine/staff/m", json=body, headers=as_cadre(node, "mine"))
    assert response.status_code == 404


async def test_staff_set_their_own_contact_data_but_not_their_duties(
    node: Any, api: httpx.AsyncClient
) -> None:
    await add_staff(node, api, "steel", "li", ["endorsements"])
    body = {"name": "Li Lei", "email": "li.lei@example.org", "language": "en"}
    response = await api.put("/staff/me", json=body, headers=as_staff(node, "steel", "li"))
    assert response.status_code == 200
    assert response.json()["duties"] == ["endorsements"]
    smuggled = {**body, "duties": ["approvals"]}
    response = await api.put("/staff/me", json=smuggled, headers=as_staff(node, "steel", "li"))
    assert response.status_code == 422 and "duties" in response.text
    me = (await api.get("/staff/me", headers=as_staff(node, "steel", "li"))).json()
    assert (me["email"], me["language"], me["duties"]) == (
        "li.lei@example.org",
        "en",
        ["endorsements"],
    )
    member = token(node, org="steel", sub="m1", roles=["member"], member_id=str(uuid.uuid4()))
    response = await api.put("/staff/me", json=body, headers={"Authorization": f"Bearer {member}"})
    assert response.status_code == 403


async def test_a_removed_staff_member_leaves_no_contact_data_and_is_told_nothing_more(
    node: Any, api: httpx.AsyncClient
) -> None:
    await know_titles(node)
    await add_staff(node, api, "steel-rolling", "approver", ["approvals"])
    await node.feed(STAFF, approval())
    assert len(await node.deliveries()) == 2

    response = await api.delete(
        "/orgs/steel-rolling/staff/approver", headers=as_cadre(node, "steel-rolling")
    )
    assert response.status_code == 204
    recipient_id = staff_recipient_id("steel-rolling", "approver")
    async with node.db.sessions() as session:
        assert (
            await session.scalar(select(Recipient).where(Recipient.member_id == recipient_id))
            is None
        )
    assert await node.deliveries() == []
    await node.feed(STAFF, approval())
    assert await node.deliveries() == []
    again = await api.delete(
        "/orgs/steel-rolling/staff/approver", headers=as_cadre(node, "steel-rolling")
    )
    assert again.status_code == 404


async def test_an_objection_names_the_scheme_of_the_notice_this_node_fanned_out(
    node: Any, api: httpx.AsyncClient, smtp_sink: SmtpSink
) -> None:
    address = await add_staff(node, api, "fed", "objections-en", ["objections"], "en")
    notice = NoticePublished(
        notice_id="notice-1",
        round_id="round-1",
        scheme_id=SCHEME_ID,
        scheme_title=SCHEME_TITLE,
        owner_org="fed",
        starts_at=AT,
        ends_at=AT + timedelta(days=7),
        entries=[
            NoticeEntry(
                nomination_id="nom-42",
                home_org="steel-rolling",
                nominees=[Nominee(member_id=str(uuid.uuid4()), display_name="Zhao Lei")],
                achievements="Rebuilt the rolling line's safety checks.",
            )
        ],
    )
    assert await node.feed("notices", notice) is Outcome.handled

    assert await node.feed(STAFF, objection()) is Outcome.handled
    await node.dispatcher.dispatch_once()

    [mail] = [m for m in smtp_sink.messages if m.rcpt_tos == (address,)]
    assert mail.subject == f"Objection filed: {SCHEME_TITLE}"
    body = mail.message.get_content()
    assert f"nomination nom-42 on the public notice of “{SCHEME_TITLE}”" in body
