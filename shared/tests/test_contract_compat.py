"""Within a version only optional fields may be added: the schema lock is checked here (CI)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field, create_model

from shared.contracts.base import Event
from shared.contracts.compat import (
    LOCK_PATH,
    Change,
    breaking_changes,
    export_schemas,
    lock_is_current,
    main,
    read_lock,
    write_lock,
)
from shared.contracts.events import EnrollmentConfirmed, OrgRegistered

REPO = Path(__file__).resolve().parents[2]
T = "bigschool.sample.happened.v1"


def obj(props: dict[str, Any], required: list[str], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required, **extra}


STRING = {"type": "string"}
OPTIONAL_STRING = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
BASE = obj({"id": STRING, "count": {"type": "integer", "minimum": 1}}, ["id", "count"])


def kinds(old: dict[str, Any], new: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c.path, c.kind) for c in breaking_changes({T: old}, {T: new})}


# -- the lock against the current models ---------------------------------------------------------


def test_the_current_event_models_do_not_break_the_schema_lock() -> None:
    changes = breaking_changes(read_lock(), export_schemas())
    assert not changes, "breaking contract changes (publish a new .vN type instead):\n" + "\n".join(
        map(str, changes)
    )


def test_the_schema_lock_holds_the_current_schemas() -> None:
    assert lock_is_current(read_lock(), export_schemas()), (
        "compatible contract changes are not in the lock: "
        "run `python -m shared.contracts.compat --write`"
    )


def test_the_lock_covers_every_registered_event_type() -> None:
    assert set(read_lock()) == set(export_schemas())


def variant(model: type[Event], drop: tuple[str, ...] = (), **add: Any) -> dict[str, Any]:
    """The schema `model` would have after a change: fields dropped or added."""
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in model.model_fields.items()
        if name not in drop
    }
    fields.update(add)
    changed = create_model(model.__name__, __base__=Event, **fields)
    return {model.ce_type: changed.model_json_schema()}


def locked(model: type[Event]) -> dict[str, Any]:
    return {model.ce_type: read_lock()[model.ce_type]}


def test_a_field_dropped_from_a_locked_model_is_caught() -> None:
    changed = variant(EnrollmentConfirmed, drop=("sequence",))
    assert breaking_changes(locked(EnrollmentConfirmed), changed) == [
        Change(EnrollmentConfirmed.ce_type, "sequence", "field_removed")
    ]


def test_a_required_field_added_to_a_locked_model_is_caught() -> None:
    changed = variant(OrgRegistered, region=(str, Field(description="required: breaking")))
    assert breaking_changes(locked(OrgRegistered), changed) == [
        Change(OrgRegistered.ce_type, "region", "required_added")
    ]


def test_a_tightened_field_of_a_locked_model_is_caught() -> None:
    changed = variant(EnrollmentConfirmed, sequence=(int, Field(ge=2)))
    assert breaking_changes(locked(EnrollmentConfirmed), changed) == [
        Change(EnrollmentConfirmed.ce_type, "sequence", "type_changed")
    ]


def test_a_new_optional_field_on_a_locked_model_is_accepted() -> None:
    changed = variant(OrgRegistered, short_name=(str | None, Field(None, description="new")))
    assert breaking_changes(locked(OrgRegistered), changed) == []


# -- breaking_changes on small synthetic schemas -------------------------------------------------


def test_identical_schemas_have_no_breaking_changes() -> None:
    assert kinds(BASE, copy.deepcopy(BASE)) == set()


def test_a_removed_field_is_breaking() -> None:
    new = obj({"id": STRING}, ["id"])
    assert kinds(BASE, new) == {("count", "field_removed")}


def test_a_changed_field_type_is_breaking() -> None:
    new = copy.deepcopy(BASE)
    new["properties"]["count"] = {"type": "string"}
    assert kinds(BASE, new) == {("count", "type_changed")}


def test_a_changed_constraint_is_breaking() -> None:
    new = copy.deepcopy(BASE)
    new["properties"]["count"]["minimum"] = 0
    assert kinds(BASE, new) == {("count", "type_changed")}


def test_a_new_required_field_is_breaking() -> None:
    new = copy.deepcopy(BASE)
    new["properties"]["org"] = STRING
    new["required"].append("org")
    assert kinds(BASE, new) == {("org", "required_added")}


def test_an_optional_field_made_required_is_breaking() -> None:
    old = obj({"id": STRING, "note": OPTIONAL_STRING}, ["id"])
    new = obj({"id": STRING, "note": OPTIONAL_STRING}, ["id", "note"])
    assert kinds(old, new) == {("note", "became_required")}


def test_a_new_optional_field_is_compatible() -> None:
    new = copy.deepcopy(BASE)
    new["properties"]["note"] = OPTIONAL_STRING
    assert kinds(BASE, new) == set()


def test_a_required_field_made_optional_is_compatible() -> None:
    new = copy.deepcopy(BASE)
    new["required"] = ["id"]
    new["properties"]["count"]["default"] = 1
    assert kinds(BASE, new) == set()


def test_titles_descriptions_and_defaults_are_not_part_of_the_contract() -> None:
    old = obj({"title": {"type": "string", "title": "Title"}}, ["title"], title="Old")
    new = obj(
        {"title": {"type": "string", "title": "Headline", "description": "what it is"}},
        ["title"],
        title="New",
        description="documented now",
    )
    # A field *named* "title" is still a field: removing it must be caught.
    assert kinds(old, new) == set()
    assert kinds(old, obj({}, [])) == {("title", "field_removed")}


def test_a_changed_enum_behind_a_ref_is_breaking() -> None:
    def with_levels(*levels: str) -> dict[str, Any]:
        return obj(
            {"level": {"$ref": "#/$defs/Level"}},
            ["level"],
            **{"$defs": {"Level": {"enum": list(levels), "type": "string", "title": "Level"}}},
        )

    assert kinds(with_levels("a", "b"), with_levels("a", "b")) == set()
    assert kinds(with_levels("a", "b"), with_levels("a", "b", "c")) == {("level", "type_changed")}
    assert kinds(with_levels("a", "b"), with_levels("a")) == {("level", "type_changed")}


def test_nested_objects_follow_the_same_rules() -> None:
    def with_venue(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
        return obj(
            {"venue": {"$ref": "#/$defs/Venue"}},
            ["venue"],
            **{"$defs": {"Venue": obj(props, required, title="Venue")}},
        )

    old = with_venue({"city": STRING}, ["city"])
    assert kinds(old, with_venue({"city": STRING, "room": OPTIONAL_STRING}, ["city"])) == set()
    assert kinds(old, with_venue({"city": STRING, "room": STRING}, ["city", "room"])) == {
        ("venue.room", "required_added")
    }
    assert kinds(old, with_venue({}, [])) == {("venue.city", "field_removed")}


def test_list_items_are_compared() -> None:
    old = obj({"tags": {"type": "array", "items": STRING}}, ["tags"])
    new = obj({"tags": {"type": "array", "items": {"type": "integer"}}}, ["tags"])
    assert kinds(old, new) == {("tags.[]", "type_changed")}


def test_a_removed_event_type_is_breaking_and_a_new_one_is_not() -> None:
    other = "bigschool.sample.happened.v2"
    assert breaking_changes({T: BASE}, {}) == [Change(T, "", "type_removed")]
    assert breaking_changes({T: BASE}, {T: BASE, other: BASE}) == []


def test_a_change_says_where_and_what_when_printed() -> None:
    assert str(Change(T, "venue.room", "required_added")) == f"{T}:venue.room: required added"


# -- the CLI ---------------------------------------------------------------------------------------


def test_check_passes_on_the_committed_lock() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "shared.contracts.compat", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith(LOCK_PATH.name)


def test_check_fails_and_names_the_field_when_the_models_break_the_lock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = tmp_path / "lock.json"
    schemas = export_schemas()
    schemas["bigschool.org.registered.v1"]["properties"]["legacy_code"] = STRING
    write_lock(schemas, lock)

    assert main(["--check", "--lock", str(lock)]) == 1
    err = capsys.readouterr().err
    assert "bigschool.org.registered.v1:legacy_code: field removed" in err


def test_check_fails_when_the_lock_misses_a_compatible_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = tmp_path / "lock.json"
    schemas = export_schemas()
    del schemas["bigschool.member.registered.v1"]["properties"]["phone"]  # "added" since
    write_lock(schemas, lock)

    assert main(["--check", "--lock", str(lock)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert main(["--write", "--lock", str(lock)]) == 0
    assert main(["--check", "--lock", str(lock)]) == 0


def test_write_refuses_to_lock_in_a_breaking_change_unless_told(tmp_path: Path) -> None:
    lock = tmp_path / "lock.json"
    schemas = export_schemas()
    schemas["bigschool.retired.thing.v1"] = BASE
    write_lock(schemas, lock)
    before = lock.read_text()

    assert main(["--write", "--lock", str(lock)]) == 1
    assert lock.read_text() == before
    assert main(["--write", "--allow-breaking", "--lock", str(lock)]) == 0
    assert "bigschool.retired.thing.v1" not in json.loads(lock.read_text())["schemas"]


def test_check_fails_without_a_lock(tmp_path: Path) -> None:
    assert main(["--check", "--lock", str(tmp_path / "missing.json")]) == 1
