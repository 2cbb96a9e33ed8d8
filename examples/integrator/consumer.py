"""An integrator's consumer of the Big School federation topics (docs/integrators.md).

Written with confluent-kafka, not the services' client, and with nothing from the project
but its published contracts: each message's body is checked against the JSON Schema of its
`ce_type` in docs/contracts/events/. One line is printed per message:

    EVENT     <ce_type> subject=<ce_subject> <topic>[<partition>]@<offset> id=<ce_id>
    DUPLICATE <ce_type> <topic>[<partition>]@<offset> id=<ce_id>      (seen already: skipped)
    REJECTED  <topic>[<partition>]@<offset> id=<ce_id>: <why>       (reported, not fatal)
    UNKNOWN   <ce_type> <topic>[<partition>]@<offset> id=<ce_id>      (no schema here: skipped)

Offsets are committed after a batch is handled (at least once): a restart may see a message
again, and the `ce_id` check drops it. A real integrator keeps the ids it has applied with
its own data, in the same transaction; this example keeps them in memory.

    python examples/integrator/consumer.py --bootstrap broker:9092 \\
        --username acme --password-file acme.password --group acme.reporting
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message
from jsonschema import Draft202012Validator

FEDERATION_TOPICS = (
    "bigschool.federation.v1",
    "bigschool.enrollment.v1",
    "bigschool.awards.v1",
    "bigschool.stats.v1",
)
EVENTS_DIR = Path(__file__).resolve().parents[2] / "docs" / "contracts" / "events"
REQUIRED_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time")


class Schemas:
    """The published event schemas, by `ce_type` (one file per type and version)."""

    def __init__(self, directory: Path) -> None:
        self.validators: dict[str, Draft202012Validator] = {}
        for path in sorted(directory.glob("*.json")):
            schema = json.loads(path.read_text(encoding="utf-8"))
            Draft202012Validator.check_schema(schema)
            self.validators[path.stem] = Draft202012Validator(schema)
        if not self.validators:
            raise SystemExit(f"no event schemas in {directory}")

    def errors(self, ce_type: str, body: Any) -> list[str]:
        found = self.validators[ce_type].iter_errors(body)
        return sorted(
            f"{'.'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}" for e in found
        )


class SeenIds:
    """The `ce_id`s handled lately. Duplicates are normal: producers resend after a failure."""

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first_time(self, ce_id: str) -> bool:
        if ce_id in self._ids:
            self._ids.move_to_end(ce_id)
            return False
        self._ids[ce_id] = None
        if len(self._ids) > self.limit:
            self._ids.popitem(last=False)
        return True


@dataclass(frozen=True)
class Outcome:
    kind: str  # EVENT | DUPLICATE | REJECTED | UNKNOWN
    line: str


def handle(message: Message, schemas: Schemas, seen: SeenIds) -> Outcome:
    """One message → what this consumer makes of it. Never raises on bad input."""
    where = f"{message.topic()}[{message.partition()}]@{message.offset()}"
    headers: dict[str, str] = {}
    raw = message.headers() or []
    for name, value in raw.items() if isinstance(raw, dict) else raw:
        try:
            headers[name] = value.decode() if isinstance(value, bytes) else str(value or "")
        except UnicodeDecodeError:
            return Outcome("REJECTED", f"REJECTED  {where}: header {name} is not UTF-8")
    ce_id, ce_type = headers.get("ce_id", "?"), headers.get("ce_type", "?")
    missing = [name for name in REQUIRED_HEADERS if not headers.get(name)]
    if missing:
        return Outcome("REJECTED", f"REJECTED  {where} id={ce_id}: missing {', '.join(missing)}")
    if ce_type not in schemas.validators:
        # A type (or a version) newer than our copy of the contracts: skip it, do not fail.
        return Outcome("UNKNOWN", f"UNKNOWN   {ce_type} {where} id={ce_id}")
    try:
        body = json.loads(message.value() or b"")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return Outcome("REJECTED", f"REJECTED  {where} id={ce_id}: the body is not JSON")
    if errors := schemas.errors(ce_type, body):
        return Outcome("REJECTED", f"REJECTED  {where} id={ce_id}: {'; '.join(errors)}")
    # Only a valid message counts as seen: a broken copy must not hide a good one.
    if not seen.first_time(ce_id):
        return Outcome("DUPLICATE", f"DUPLICATE {ce_type} {where} id={ce_id}")
    subject = headers.get("ce_subject", "")
    return Outcome("EVENT", f"EVENT     {ce_type} subject={subject} {where} id={ce_id}")


def consumer_config(args: argparse.Namespace) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "auto.offset.reset": "earliest",  # a new group replays what the topics keep
        "enable.auto.commit": False,
        "security.protocol": args.security_protocol,
    }
    if args.security_protocol.startswith("SASL_"):
        config |= {
            "sasl.mechanisms": "SCRAM-SHA-512",
            "sasl.username": args.username,
            "sasl.password": Path(args.password_file).read_text(encoding="utf-8").strip(),
        }
    if args.ca_file:
        config["ssl.ca.location"] = args.ca_file
    return config


def run(
    config: dict[str, Any],
    topics: Sequence[str],
    schemas: Schemas,
    *,
    idle_seconds: float | None = None,
    emit: Callable[[str], None] = print,
) -> dict[str, int]:
    """Consume until interrupted (or `idle_seconds` pass with nothing new); counts by kind."""
    counts = {"EVENT": 0, "DUPLICATE": 0, "REJECTED": 0, "UNKNOWN": 0}
    seen = SeenIds()
    consumer = Consumer(config)
    consumer.subscribe(list(topics))
    last = time.monotonic()
    try:
        while idle_seconds is None or time.monotonic() - last < idle_seconds:
            batch = consumer.consume(num_messages=200, timeout=1.0)
            for message in batch:
                error = message.error()
                if error is not None:
                    if error.code() != KafkaError._PARTITION_EOF:
                        emit(f"ERROR     {error}")
                        if error.fatal():
                            raise SystemExit(str(error))
                    continue
                outcome = handle(message, schemas, seen)
                counts[outcome.kind] += 1
                emit(outcome.line)
            if batch:
                last = time.monotonic()
                consumer.commit(asynchronous=False)
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True, help="host:port[,host:port…]")
    parser.add_argument("--security-protocol", default="SASL_PLAINTEXT")
    parser.add_argument("--username", help="the integrator principal (provisioned)")
    parser.add_argument("--password-file", help="its password, one line")
    parser.add_argument("--ca-file", help="the brokers' CA (with SASL_SSL)")
    parser.add_argument("--group", required=True, help="a group under '<principal>.'")
    parser.add_argument("--topics", default=",".join(FEDERATION_TOPICS))
    parser.add_argument("--contracts", type=Path, default=EVENTS_DIR, help="event schemas")
    parser.add_argument("--idle-seconds", type=float, help="stop after this long without news")
    args = parser.parse_args(argv)
    if args.security_protocol.startswith("SASL_") and not (args.username and args.password_file):
        parser.error("--username and --password-file are needed with SASL")
    topics = [t for t in args.topics.split(",") if t]
    counts = run(
        consumer_config(args),
        topics,
        Schemas(args.contracts),
        idle_seconds=args.idle_seconds,
        emit=lambda line: print(line, flush=True),
    )
    print("SUMMARY   " + " ".join(f"{k.lower()}={v}" for k, v in counts.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
