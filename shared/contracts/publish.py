"""The published contracts under docs/contracts/: what integrators build against.

    python -m shared.contracts.publish           # write them
    python -m shared.contracts.publish --check   # CI (scripts/check): fail when stale or broken

Written, as sorted and indented JSON (diff-friendly, the same bytes on every run):
- `openapi/<service>.json`: each service's HTTP API, with every operation's problem statuses;
- `asyncapi/<service>.json`: the events each service publishes and the topics they go to;
- `events/<ce_type>.json`: the JSON Schema of each event's body, one file per type and
  version (the `ce_dataschema` header names it: `urn:bigschool:schema:<ce_type>`).

The files in the repository are the published versions. `--check` fails when the current
code would write anything else, and first when it breaks them: events by the rules of
shared.contracts.compat, HTTP APIs by those of shared.contracts.openapi_compat. `--write`
refuses a breaking change unless `--allow-breaking` (retiring a version on purpose).
Documents are built for a node named `{node}`: node-specific names read as templates.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI
from faststream.specification import AsyncAPI

from shared.contracts.compat import breaking_changes, export_schemas
from shared.contracts.envelope import schema_uri
from shared.contracts.openapi_compat import breaking_api_changes
from shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS_DIR = ROOT / "docs" / "contracts"
NODE, ROOT_ORG = "{node}", "{root_org}"
SERVICES = ("awards", "enrollment", "notifications")
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

Document = dict[str, Any]
Settings = TypeVar("Settings", bound=ServiceSettings)


def render(document: Document) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def event_documents() -> dict[str, Document]:
    """`events/<ce_type>.json` → the event body's JSON Schema, with its id and dialect."""
    out: dict[str, Document] = {}
    for ce_type, schema in export_schemas().items():
        out[f"events/{ce_type}.json"] = {
            "$schema": JSON_SCHEMA_DIALECT,
            "$id": schema_uri(ce_type),
            **json.loads(json.dumps(schema)),
        }
    return out


@contextmanager
def _clean_environment() -> Iterator[Path]:
    """No BIGSCHOOL_* setting of this shell leaks into the documents; a scratch key set
    satisfies the services' start-up checks (nothing of it is published)."""
    from shared.auth.keys import generate_keys

    saved = {k: v for k, v in os.environ.items() if k.startswith(("BIGSCHOOL_", "KAFKA_"))}
    for name in saved:
        del os.environ[name]
    try:
        with tempfile.TemporaryDirectory(prefix="bigschool-contracts-") as scratch:
            _, jwks = generate_keys(Path(scratch))
            yield jwks
    finally:
        os.environ.update(saved)


def _factories() -> dict[str, Callable[[Path], FastAPI]]:
    from awards.app import create_app as awards_app
    from awards.settings import AwardsSettings
    from enrollment.app import create_app as enrollment_app
    from enrollment.settings import EnrollmentSettings
    from notifications.app import create_app as notifications_app
    from notifications.settings import NotificationsSettings

    def settings(kind: type[Settings], jwks: Path) -> Settings:
        return kind(node_id=NODE, root_org=ROOT_ORG, federation_jwks_path=jwks, jwt_jwks_path=jwks)

    return {
        "awards": lambda jwks: awards_app(settings(AwardsSettings, jwks)),
        "enrollment": lambda jwks: enrollment_app(settings(EnrollmentSettings, jwks)),
        "notifications": lambda jwks: notifications_app(settings(NotificationsSettings, jwks)),
    }


def service_documents() -> dict[str, Document]:
    """`openapi/<service>.json` and `asyncapi/<service>.json` of every service."""
    out: dict[str, Document] = {}
    with _clean_environment() as jwks:
        for service, factory in _factories().items():
            app = factory(jwks)
            out[f"openapi/{service}.json"] = json.loads(json.dumps(app.openapi()))
            broker = app.state.runtime.broker
            title = f"Big School {service} (events)"
            asyncapi = AsyncAPI(broker, title=title, version="1").to_specification()
            document = json.loads(json.dumps(asyncapi.to_jsonable()))
            out[f"asyncapi/{service}.json"] = _any_brokers(document)
    return out


def _any_brokers(asyncapi: Document) -> Document:
    """The brokers are each deployment's own: a server variable, not this shell's default."""
    for server in asyncapi.get("servers", {}).values():
        server["host"] = "{bootstrap}"
        server["variables"] = {
            "bootstrap": {"description": "The federation's brokers (KAFKA_BOOTSTRAP_SERVERS)."}
        }
    return asyncapi


def current_documents() -> dict[str, Document]:
    return {**service_documents(), **event_documents()}


def published_documents(directory: Path) -> dict[str, Document]:
    if not directory.is_dir():
        return {}
    return {
        path.relative_to(directory).as_posix(): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob("*/*.json"))
    }


def breaking(published: dict[str, Document], current: dict[str, Document]) -> list[str]:
    """Every breaking change from the published documents to the current ones."""
    problems: list[str] = []
    old_events = {_ce_type(p): d for p, d in published.items() if p.startswith("events/")}
    new_events = {_ce_type(p): d for p, d in current.items() if p.startswith("events/")}
    problems += [str(c) for c in breaking_changes(old_events, new_events)]
    for path, document in sorted(published.items()):
        if path.startswith("openapi/"):
            after = current.get(path, {"paths": {}})
            problems += [f"{path}: {c}" for c in breaking_api_changes(document, after)]
    return problems


def stale(published: dict[str, Document], current: dict[str, Document]) -> list[str]:
    """The files that differ from what the code would write now (or should not be there)."""
    names = sorted(published.keys() | current.keys())
    return [
        name
        for name in names
        if name not in published
        or name not in current
        or render(published[name]) != render(current[name])
    ]


def write(directory: Path, current: dict[str, Document]) -> None:
    for path in sorted(directory.glob("*/*.json")):
        if path.relative_to(directory).as_posix() not in current:
            path.unlink()
    for name, document in current.items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        text = render(document)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")


def _ce_type(path: str) -> str:
    return path.removeprefix("events/").removesuffix(".json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shared.contracts.publish",
        description="Write (or check) the published OpenAPI, AsyncAPI and event JSON Schemas.",
    )
    parser.add_argument("--check", action="store_true", help="fail when stale or broken")
    parser.add_argument("--dir", type=Path, default=CONTRACTS_DIR, help="the contracts folder")
    parser.add_argument(
        "--allow-breaking",
        action="store_true",
        help="write even a breaking change (retiring a published version on purpose)",
    )
    args = parser.parse_args(argv)

    current = current_documents()
    published = published_documents(args.dir)
    problems = breaking(published, current)
    for problem in problems:
        print(f"breaking: {problem}", file=sys.stderr)

    if not args.check:
        if problems and not args.allow_breaking:
            print(
                "refusing to publish a breaking change: add a new version (a `.vN` event "
                "type, a new operation) instead, or pass --allow-breaking",
                file=sys.stderr,
            )
            return 1
        write(args.dir, current)
        print(f"wrote {len(current)} contract documents to {args.dir}")
        return 0

    out_of_date = stale(published, current)
    for name in out_of_date:
        print(f"out of date: {args.dir / name}", file=sys.stderr)
    if problems or out_of_date:
        if out_of_date and not problems:
            print("run `python -m shared.contracts.publish` and commit the result", file=sys.stderr)
        return 1
    print(f"{len(current)} contract documents in {args.dir} are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
