"""OpenAPI compatibility: what a new version of a service's HTTP API may not do to clients
written against the published one (docs/contracts/openapi/<service>.json).

Breaking:
- an operation (path and method) removed;
- a response status removed (a client handles it);
- in a response body: a field removed or no longer always present;
- anywhere (bodies, parameters): a type narrowed — a JSON type, an enum value or a constant
  dropped, a format added or changed, a bound tightened — in what a client sends or reads;
- a request field or parameter made required (old clients do not send it).
Compatible: new operations, statuses, optional parameters and fields; wider types; changed
descriptions. Event bodies have their own rules (shared.contracts.compat).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
REF = "#/components/schemas/"
# Bounds whose value may grow (lower bounds) or shrink (upper bounds) without narrowing.
LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems")
UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems")


@dataclass(frozen=True)
class ApiChange:
    """One breaking difference: `where` is `METHOD /path`, `path` the place inside it."""

    where: str
    path: str
    kind: str  # operation_removed | status_removed | field_removed | field_optional | ...

    def __str__(self) -> str:
        at = f"{self.where} {self.path}" if self.path else self.where
        return f"{at}: {self.kind.replace('_', ' ')}"


def breaking_api_changes(old: Schema, new: Schema) -> list[ApiChange]:
    """Every breaking change from the published document `old` to the current `new`."""
    changes: list[ApiChange] = []
    old_paths = _inline(old.get("paths", {}), old.get("components", {}).get("schemas", {}))
    new_paths = _inline(new.get("paths", {}), new.get("components", {}).get("schemas", {}))
    for url, old_ops in sorted(old_paths.items()):
        new_ops = new_paths.get(url, {})
        for method in METHODS:
            if method not in old_ops:
                continue
            where = f"{method.upper()} {url}"
            if method not in new_ops:
                changes.append(ApiChange(where, "", "operation_removed"))
                continue
            _Diff(where, changes).operation(old_ops[method], new_ops[method])
    return changes


class _Diff:
    def __init__(self, where: str, out: list[ApiChange]) -> None:
        self.where = where
        self.out = out

    def add(self, path: str, kind: str) -> None:
        self.out.append(ApiChange(self.where, path, kind))

    def operation(self, old: Schema, new: Schema) -> None:
        self.parameters(old.get("parameters", []), new.get("parameters", []))
        old_body, new_body = _json_body(old.get("requestBody")), _json_body(new.get("requestBody"))
        if new.get("requestBody", {}).get("required") and not old.get("requestBody"):
            self.add("body", "required_added")
        if old_body is not None and new_body is not None:
            self.compare("body", old_body, new_body, response=False)
        for status, old_response in old.get("responses", {}).items():
            new_response = new.get("responses", {}).get(status)
            if new_response is None:
                self.add(status, "status_removed")
                continue
            old_schema, new_schema = _json_body(old_response), _json_body(new_response)
            if old_schema is not None and new_schema is not None:
                self.compare(status, old_schema, new_schema, response=True)

    def parameters(self, old: list[Schema], new: list[Schema]) -> None:
        before = {(p.get("in"), p.get("name")): p for p in old}
        for p in new:
            name = f"{p.get('in')}:{p.get('name')}"
            earlier = before.get((p.get("in"), p.get("name")))
            if p.get("required") and not (earlier and earlier.get("required")):
                self.add(name, "required_added")
            if earlier is not None and "schema" in earlier and "schema" in p:
                self.compare(name, earlier["schema"], p["schema"], response=False)

    def compare(self, path: str, old: Any, new: Any, *, response: bool, depth: int = 0) -> None:
        if not (isinstance(old, dict) and isinstance(new, dict)) or depth > 32:
            return
        if not _types(new) >= _types(old):
            self.add(path, "type_narrowed")
        old_values, new_values = _values(old), _values(new)
        if new_values is not None:
            if old_values is None:
                self.add(path, "type_narrowed")
            elif old_values - new_values:
                self.add(path, "enum_value_removed")
        if new.get("format") is not None and new.get("format") != old.get("format"):
            self.add(path, "type_narrowed")
        for bound in LOWER:
            if bound in new and (bound not in old or new[bound] > old[bound]):
                self.add(path, "type_narrowed")
        for bound in UPPER:
            if bound in new and (bound not in old or new[bound] < old[bound]):
                self.add(path, "type_narrowed")
        self.fields(path, old, new, response=response, depth=depth)
        if "items" in old and "items" in new:
            self.compare(
                f"{path}[]", old["items"], new["items"], response=response, depth=depth + 1
            )
        new_options = _options(new)
        for option in _options(old):
            match = next((o for o in new_options if _types(o) == _types(option)), None)
            if match is not None and (option, match) != (old, new):
                self.compare(path, option, match, response=response, depth=depth + 1)

    def fields(self, path: str, old: Schema, new: Schema, *, response: bool, depth: int) -> None:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name, field in old_props.items():
            at = f"{path}.{name}"
            if name not in new_props:
                if response:
                    self.add(at, "field_removed")
                continue
            if response and name in old_required and name not in new_required:
                self.add(at, "field_optional")
            self.compare(at, field, new_props[name], response=response, depth=depth + 1)
        if not response:
            for name in sorted(new_required - old_required):
                self.add(f"{path}.{name}", "required_added")


def _json_body(holder: Schema | None) -> Any:
    """The JSON (or problem JSON) schema of a request body or a response, if any."""
    content = (holder or {}).get("content", {})
    for media in ("application/json", "application/problem+json"):
        if media in content and "schema" in content[media]:
            return content[media]["schema"]
    return None


def _inline(node: Any, defs: Schema, seen: tuple[str, ...] = ()) -> Any:
    """Components inlined where used, so that a changed enum is compared where it matters;
    a recursive component keeps its `$ref` (and is compared no deeper)."""
    if isinstance(node, list):
        return [_inline(item, defs, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF):
        name = ref.removeprefix(REF)
        if name in defs and name not in seen:
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return _inline({**defs[name], **rest}, defs, (*seen, name))
    return {key: _inline(value, defs, seen) for key, value in node.items()}


def _values(node: Schema) -> frozenset[str] | None:
    """The values an `enum` or `const` allows (as JSON text); None when not restricted."""
    if "enum" in node and isinstance(node["enum"], list):
        return frozenset(json.dumps(v, sort_keys=True) for v in node["enum"])
    if "const" in node:
        return frozenset({json.dumps(node["const"], sort_keys=True)})
    return None


def _options(node: Schema) -> list[Schema]:
    return [o for key in ("anyOf", "oneOf") for o in node.get(key, []) if isinstance(o, dict)]


def _types(node: Any) -> frozenset[str]:
    """The JSON types a schema admits; "any" when it does not say."""
    if not isinstance(node, dict):
        return frozenset({"any"})
    options = _options(node)
    if options:
        return frozenset().union(*(_types(o) for o in options))
    declared = node.get("type")
    if declared is None:
        return frozenset({"object"}) if "properties" in node else frozenset({"any"})
    kinds = frozenset(declared if isinstance(declared, list) else [declared])
    # Whatever a number admits, an integer is one of.
    return kinds | {"integer"} if "number" in kinds else kinds
