"""CloudEvents 1.0 in Kafka binary mode: the body is the event's data, the rest are headers."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from shared.contracts.base import Event
from shared.tracing import child_traceparent

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
ORGS_HEADER = "bigschool_orgs"
REQUIRED = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time")


class EnvelopeError(ValueError):
    """A message that is not a CloudEvent we can read. `field` names the header at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Envelope:
    id: str
    source: str
    type: str
    time: datetime
    subject: str | None
    orgs: tuple[str, ...]
    traceparent: str | None = None

    @property
    def node(self) -> str | None:
        """The node that wrote the event, from `ce_source` = `bigschool/<node>/<service>`."""
        parts = self.source.split("/")
        return parts[1] if len(parts) == 3 and parts[0] == "bigschool" and parts[1] else None

    def headers(self) -> list[tuple[str, bytes]]:
        pairs = {
            "ce_specversion": SPECVERSION,
            "ce_id": self.id,
            "ce_source": self.source,
            "ce_type": self.type,
            "ce_time": self.time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "ce_dataschema": schema_uri(self.type),
            "content-type": CONTENT_TYPE,
            ORGS_HEADER: ",".join(self.orgs),
        }
        if self.subject is not None:
            pairs["ce_subject"] = self.subject
        if self.traceparent:
            pairs["traceparent"] = self.traceparent
        return [(k, v.encode()) for k, v in pairs.items()]


def schema_uri(ce_type: str) -> str:
    return f"urn:bigschool:schema:{ce_type}"


def envelope_for(
    event: Event, *, source: str, at: datetime, event_id: str | None = None
) -> Envelope:
    return Envelope(
        id=event_id or str(uuid.uuid4()),
        source=source,
        type=event.ce_type,
        time=at,
        subject=event.subject(),
        orgs=tuple(dict.fromkeys(o for o in event.orgs() if o)),
        traceparent=child_traceparent(),
    )


def header_map(headers: Iterable[tuple[str, bytes]] | Mapping[str, object]) -> dict[str, str]:
    """Kafka headers as text; undecodable values become an EnvelopeError, not a crash."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for name, value in items:
        if isinstance(value, bytes | bytearray):
            try:
                out[name] = bytes(value).decode()
            except UnicodeDecodeError as exc:
                raise EnvelopeError(name, "header is not UTF-8") from exc
        else:
            out[name] = str(value)
    return out


def orgs_of(headers: Mapping[str, str]) -> tuple[str, ...]:
    """The orgs a message involves, read from its header alone (the body stays unread)."""
    raw = headers.get(ORGS_HEADER, "")
    return tuple(o for o in (part.strip() for part in raw.split(",")) if o)


def parse(headers: Mapping[str, str]) -> Envelope:
    for name in REQUIRED:
        if not headers.get(name):
            raise EnvelopeError(name, "missing CloudEvents header")
    if headers["ce_specversion"] != SPECVERSION:
        raise EnvelopeError("ce_specversion", "unsupported CloudEvents version")
    try:
        uuid.UUID(headers["ce_id"])
    except ValueError as exc:
        raise EnvelopeError("ce_id", "not a UUID") from exc
    try:
        time = datetime.fromisoformat(headers["ce_time"].replace("Z", "+00:00"))
    except ValueError as exc:
        raise EnvelopeError("ce_time", "not an RFC 3339 time") from exc
    if time.tzinfo is None:  # RFC 3339 requires an offset; a naive time has no known zone
        raise EnvelopeError("ce_time", "not an RFC 3339 time (no UTC offset)")
    return Envelope(
        id=headers["ce_id"],
        source=headers["ce_source"],
        type=headers["ce_type"],
        time=time,
        subject=headers.get("ce_subject"),
        orgs=orgs_of(headers),
        traceparent=headers.get("traceparent"),
    )
