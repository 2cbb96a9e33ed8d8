"""The event registry: one model per CloudEvents type, each exportable as JSON Schema."""

from __future__ import annotations

import json
import re
from typing import ClassVar

import pytest
from pydantic import BaseModel

import shared.contracts.events  # noqa: F401  (registers the models)
from shared.contracts.base import REGISTRY, Event, register
from shared.contracts.events import MemberRegistered, OrgRegistered

CE_TYPE = re.compile(r"^bigschool(\.[a-z][a-z0-9_]*)+\.v[1-9][0-9]*$")
# Personal data that may travel on the node-local members topic only.
CONTACT_FIELDS = {"email", "phone", "national_id", "id_number", "employee_no"}


def test_the_registry_knows_the_event_types_of_the_first_flow() -> None:
    assert {
        "bigschool.org.registered.v1",
        "bigschool.member.registered.v1",
        "bigschool.programme.published.v1",
        "bigschool.enrollment.requested.v1",
        "bigschool.enrollment.confirmed.v1",
        "bigschool.enrollment.waitlisted.v1",
        "bigschool.enrollment.refused.v1",
    } <= set(REGISTRY)


def test_every_registered_type_maps_to_its_own_model_under_a_versioned_name() -> None:
    for ce_type, model in REGISTRY.items():
        assert model.ce_type == ce_type
        assert CE_TYPE.match(ce_type), ce_type
    models = list(REGISTRY.values())
    assert len(set(models)) == len(models), "one model registered under two types"


def test_registering_a_taken_type_again_is_refused() -> None:
    before = dict(REGISTRY)

    class Impostor(Event):
        ce_type: ClassVar[str] = OrgRegistered.ce_type

    with pytest.raises(ValueError, match="registered twice"):
        register(Impostor)
    assert before == REGISTRY
    assert REGISTRY[OrgRegistered.ce_type] is OrgRegistered


@pytest.mark.parametrize("ce_type", sorted(REGISTRY))
def test_every_event_model_exports_a_json_schema(ce_type: str) -> None:
    model = REGISTRY[ce_type]
    schema = model.model_json_schema()

    assert schema["type"] == "object"
    assert schema["properties"], "an event without fields"
    assert set(schema.get("required", [])) <= set(schema["properties"])
    assert set(schema["properties"]) == set(model.model_fields)
    json.dumps(schema)  # plain JSON, ready for the AsyncAPI document


@pytest.mark.parametrize("ce_type", sorted(REGISTRY))
def test_every_event_model_is_documented(ce_type: str) -> None:
    assert (REGISTRY[ce_type].__doc__ or "").strip()


def test_consumers_ignore_fields_a_newer_producer_added() -> None:
    body = {
        "org_id": "zj",
        "name": "Zhejiang",
        "level": "superior",
        "hosted_by": "zj",
        "added_in_a_later_release": 42,
    }
    event = OrgRegistered.model_validate_json(json.dumps(body))
    assert event.org_id == "zj"
    assert "added_in_a_later_release" not in event.model_dump()


def test_only_the_node_local_member_event_carries_contact_data() -> None:
    for ce_type, model in REGISTRY.items():
        carried = CONTACT_FIELDS & set(model.model_fields)
        if model is MemberRegistered:
            assert carried == {"email", "phone"}
        else:
            assert not carried, f"{ce_type} carries {carried}"


def test_events_are_immutable() -> None:
    event = OrgRegistered(org_id="zj", name="Zhejiang", level="superior", hosted_by="zj")
    with pytest.raises(Exception, match="frozen"):
        event.name = "changed"  # type: ignore[misc]
    assert isinstance(event, BaseModel)
