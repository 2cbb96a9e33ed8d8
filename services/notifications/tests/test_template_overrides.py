# Chinese text takes full-width punctuation: correct here, not a look-alike typo.
# ruff: noqa: RUF001
"""Per-org template overrides: managed by the org's cadres over HTTP, checked before they are
saved, used for the org's members and its sub-orgs' (nearest override wins), never holding a
message up when one fails to render."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from deploy.local.smtp import SmtpSink
from notifications import repository
from notifications.models import TemplateOverride
from shared.contracts.events import EnrollmentConfirmed

CONFIRMED = EnrollmentConfirmed.ce_type
AWARD = "bigschool.awards.honour_granted.v1:award"


@pytest.fixture
async def api(node) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=node.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def as_staff(node, org: str, role: str = "cadre") -> dict[str, str]:
    return {"Authorization": f"Bearer {node.token(org=org, roles=[role])}"}


def url(org: str, key: str = CONFIRMED, language: str = "en") -> str:
    return f"/orgs/{org}/templates/{key}/{language}"


STEEL_WORDING = {
    "subject": "Steel academy: {programme} confirmed",
    "title": "Steel academy: {programme}",
    "body": "Hello {name}, see you at {programme} ({hours} hours).{cancel}",
}


async def test_an_override_is_used_for_the_orgs_members_and_its_sub_orgs_but_not_another_org(
    node, api: httpx.AsyncClient, smtp_sink: SmtpSink
) -> None:
    response = await api.put(url("steel"), json=STEEL_WORDING, headers=as_staff(node, "steel"))
    assert response.status_code == 200 and response.json()["source"] == "org"
    members = {}
    for org in ("steel", "steel-rolling", "fed"):
        address = f"{org}@example.org"
        member = await node.add_member(home_org=org, email=address, language="en", name="Li")
        await node.decide(member.member_id, home_org=org)
        members[org] = member.member_id

    await node.dispatcher.dispatch_once()

    subjects = {m.rcpt_tos[0]: m.subject for m in smtp_sink.messages}
    assert subjects == {
        "steel@example.org": "Steel academy: Safe crane operation confirmed",
        "steel-rolling@example.org": "Steel academy: Safe crane operation confirmed",
        "fed@example.org": "Enrollment confirmed: Safe crane operation",  # not steel's
    }
    [item] = await node.inbox(members["steel-rolling"])
    assert item.title == "Steel academy: Safe crane operation"
    assert item.body.startswith("Hello Li, see you at Safe crane operation (12 hours).")


async def test_the_nearest_orgs_override_wins_and_get_says_where_it_comes_from(
    node, api: httpx.AsyncClient
) -> None:
    fed = {**STEEL_WORDING, "subject": "Federation: {programme}"}
    admin = as_staff(node, "fed", role="admin")
    assert (await api.put(url("fed"), json=fed, headers=admin)).status_code == 200
    rolling = {**STEEL_WORDING, "subject": "Rolling mill: {programme}"}
    own = as_staff(node, "steel-rolling")
    assert (await api.put(url("steel-rolling"), json=rolling, headers=own)).status_code == 200

    steel = (await api.get(url("steel"), headers=as_staff(node, "steel"))).json()
    mine = (await api.get(url("steel-rolling"), headers=own)).json()
    zh = (await api.get(url("steel", language="zh"), headers=as_staff(node, "steel"))).json()

    assert (steel["source"], steel["org_id"], steel["subject"]) == (
        "inherited",
        "fed",
        "Federation: {programme}",
    )
    assert (mine["source"], mine["org_id"]) == ("org", "steel-rolling")
    assert (zh["source"], zh["org_id"], zh["subject"]) == ("default", None, "报名成功：{programme}")


async def test_the_list_marks_each_template_and_delete_restores_the_default(
    node, api: httpx.AsyncClient, smtp_sink: SmtpSink
) -> None:
    cadre = as_staff(node, "steel-rolling")
    await api.put(url("steel-rolling"), json=STEEL_WORDING, headers=cadre)

    listed = (await api.get("/orgs/steel-rolling/templates", headers=cadre)).json()["items"]
    by_slot = {(i["template_key"], i["language"]): i["source"] for i in listed}
    assert by_slot[(CONFIRMED, "en")] == "org"
    assert by_slot[(CONFIRMED, "zh")] == "default"
    assert by_slot[(AWARD, "en")] == "default"  # variants are templates of their own
    assert set(by_slot.values()) == {"org", "default"}

    assert (await api.delete(url("steel-rolling"), headers=cadre)).status_code == 204
    assert (await api.delete(url("steel-rolling"), headers=cadre)).status_code == 404
    member = await node.add_member(language="en")
    await node.decide(member.member_id)
    await node.dispatcher.dispatch_once()
    assert [m.subject for m in smtp_sink.messages] == ["Enrollment confirmed: Safe crane operation"]


@pytest.mark.parametrize(
    ("key", "language", "part", "text", "field", "named"),
    [
        (CONFIRMED, "en", "body", "Dear {name}, your salary: {salary}", "body", "{salary}"),
        (CONFIRMED, "en", "subject", "{yuan} yuan", "subject", "{yuan}"),  # an honour's field
        (CONFIRMED, "en", "body", "{name.__class__}", "body", "{name.__class__}"),
        (CONFIRMED, "en", "title", "{programme!r}", "title", "{programme!r}"),
        (CONFIRMED, "en", "body", "{0}", "body", "{0}"),
        (CONFIRMED, "en", "body", "Hello {name", "body", "expected '}'"),
        (CONFIRMED, "fr", "body", "Hello", "language", "zh, en"),
        ("bigschool.no_such.event.v1", "en", "body", "Hello", "event_type", "no template"),
    ],
)
async def test_an_invalid_override_is_refused_with_422_naming_what_is_wrong(
    node,
    api: httpx.AsyncClient,
    key: str,
    language: str,
    part: str,
    text: str,
    field: str,
    named: str,
) -> None:
    cadre = as_staff(node, "steel")
    body = {**STEEL_WORDING, part: text}

    response = await api.put(url("steel", key, language), json=body, headers=cadre)

    assert response.status_code == 422
    problem = response.json()
    assert named in problem["detail"] and problem["errors"][0]["field"] == field
    if named.startswith("{"):
        assert problem["placeholder"] == named
    assert await overrides(node) == []


async def test_an_honour_variant_may_use_the_honours_fields(node, api: httpx.AsyncClient) -> None:
    wording = {"subject": "{title}", "title": "{title}", "body": "{name}: {yuan} yuan{because}"}
    response = await api.put(url("steel", AWARD), json=wording, headers=as_staff(node, "steel"))
    assert response.status_code == 200
    assert [(o.org_id, o.template_key) for o in await overrides(node)] == [("steel", AWARD)]


async def test_an_override_that_fails_to_render_is_skipped_for_the_default_text(
    node, smtp_sink: SmtpSink
) -> None:
    async with node.db.transaction() as session:  # written around the API's checks
        await repository.save_override(
            session,
            {
                "org_id": "steel-rolling",
                "template_key": CONFIRMED,
                "language": "en",
                "subject": "{hours:d} hours",  # `d` of a text value: ValueError when rendered
                "title": "t",
                "body": "b",
                "updated_at": node.clock.now(),
                "updated_by": "test",
            },
        )
    broken = await node.add_member(language="en", email="broken@example.org")
    other = await node.add_member(language="zh", email="other@example.org")
    await node.decide(broken.member_id)
    await node.decide(other.member_id)

    await node.dispatcher.dispatch_once()

    subjects = sorted(m.subject for m in smtp_sink.messages)
    assert subjects == [
        "Enrollment confirmed: Safe crane operation",
        "报名成功：Safe crane operation",
    ]
    assert (await node.delivery(broken.member_id, "email")).status == "sent"


@pytest.mark.parametrize(
    ("org", "roles"),
    [
        ("steel", ["member"]),  # a member of the org
        ("steel", ["reviewer"]),
        ("steel-rolling", ["cadre"]),  # a cadre of a sub-org
        ("mine", ["cadre"]),  # a cadre of another org
        ("steel-rolling", ["admin"]),  # an admin of another org than the node's root
    ],
)
async def test_only_the_orgs_cadres_and_the_node_admins_manage_its_templates(
    node, api: httpx.AsyncClient, org: str, roles: list[str]
) -> None:
    headers = {"Authorization": f"Bearer {node.token(org=org, roles=roles)}"}

    answers = [
        (await api.get("/orgs/steel/templates", headers=headers)).status_code,
        (await api.get(url("steel"), headers=headers)).status_code,
        (await api.put(url("steel"), json=STEEL_WORDING, headers=headers)).status_code,
        (await api.delete(url("steel"), headers=headers)).status_code,
    ]

    assert answers == [403, 403, 403, 403]
    assert await overrides(node) == []


async def test_a_node_admin_manages_any_orgs_templates_and_an_unknown_org_is_404(
    node, api: httpx.AsyncClient
) -> None:
    admin = as_staff(node, "fed", role="admin")
    assert (await api.put(url("steel"), json=STEEL_WORDING, headers=admin)).status_code == 200
    assert (await api.get(url("nowhere"), headers=admin)).status_code == 404
    assert (await api.get(url("steel", "bigschool.no_such.v1"), headers=admin)).status_code == 404


async def overrides(node) -> list[TemplateOverride]:
    async with node.db.sessions() as session:
        return await repository.overrides_of(session, ["fed", "steel", "steel-rolling"])
