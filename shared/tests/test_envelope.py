"""The CloudEvents envelope in Kafka binary mode: headers out, headers back in."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.contracts.envelope import (
    Envelope,
    EnvelopeError,
    envelope_for,
    header_map,
    orgs_of,
    parse,
    schema_uri,
)
from shared.contracts.events import EnrollmentConfirmed
from shared.tracing import reset_traceparent, set_traceparent

SPEC_HEADERS = {
    "ce_specversion",
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_time",
    "ce_subject",
    "ce_dataschema",
    "content-type",
    "bigschool_orgs",
    "traceparent",
}
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$")
SHANGHAI = timezone(timedelta(hours=8))


def confirmed(**overrides: object) -> EnrollmentConfirmed:
    fields: dict[str, object] = {
        "enrollment_id": "enr-1",
        "programme_id": "prog-1",
        "member_id": str(uuid.uuid4()),
        "owner_org": "zj",
        "home_org": "hzsteel-rolling",
        "decided_at": datetime(2025, 3, 1, 8, 0, tzinfo=UTC),
        "sequence": 1,
    }
    fields.update(overrides)
    return EnrollmentConfirmed.model_validate(fields)


def valid_headers() -> dict[str, str]:
    env = envelope_for(confirmed(), source="bigschool/zj/enrollment", at=datetime.now(UTC))
    return header_map(env.headers())


def test_headers_carry_every_attribute_the_spec_lists() -> None:
    env = envelope_for(confirmed(), source="bigschool/zj/enrollment", at=datetime.now(UTC))
    headers = header_map(env.headers())

    assert set(headers) == SPEC_HEADERS
    assert headers["ce_specversion"] == "1.0"
    assert str(uuid.UUID(headers["ce_id"])) == headers["ce_id"]
    assert headers["ce_source"] == "bigschool/zj/enrollment"
    assert headers["ce_type"] == "bigschool.enrollment.confirmed.v1"
    assert RFC3339_UTC.match(headers["ce_time"]), headers["ce_time"]
    assert headers["ce_subject"] == "enr-1"  # the enrollment, while the key is the programme
    assert headers["ce_dataschema"] == schema_uri("bigschool.enrollment.confirmed.v1")
    assert headers["content-type"] == "application/json"
    assert headers["bigschool_orgs"] == "zj,hzsteel-rolling"
    assert TRACEPARENT.match(headers["traceparent"]), headers["traceparent"]


def test_headers_are_bytes_as_kafka_wants_them() -> None:
    env = envelope_for(confirmed(), source="bigschool/zj/enrollment", at=datetime.now(UTC))
    assert all(isinstance(k, str) and isinstance(v, bytes) for k, v in env.headers())


def test_headers_round_trip_through_parse_unchanged() -> None:
    at = datetime(2025, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
    env = envelope_for(confirmed(), source="bigschool/zj/enrollment", at=at)

    assert parse(header_map(env.headers())) == env


def test_ce_time_is_sent_in_utc_whatever_zone_the_clock_reads() -> None:
    local = datetime(2025, 3, 1, 8, 0, tzinfo=SHANGHAI)
    env = envelope_for(confirmed(), source="bigschool/zj/enrollment", at=local)
    headers = header_map(env.headers())

    assert headers["ce_time"] == "2025-03-01T00:00:00Z"
    assert parse(headers).time == local  # the same instant


def test_every_event_gets_its_own_ce_id() -> None:
    ids = {envelope_for(confirmed(), source="s", at=datetime.now(UTC)).id for _ in range(100)}
    assert len(ids) == 100


def test_bigschool_orgs_lists_each_involved_org_once_in_order() -> None:
    event = confirmed(owner_org="zj", home_org="zj")
    env = envelope_for(event, source="s", at=datetime.now(UTC))
    assert env.orgs == ("zj",)
    assert orgs_of({"bigschool_orgs": " zj , ,hzsteel,"}) == ("zj", "hzsteel")
    assert orgs_of({}) == ()


def test_an_outgoing_event_continues_the_current_trace() -> None:
    incoming = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
    token = set_traceparent(incoming)
    try:
        env = envelope_for(confirmed(), source="s", at=datetime.now(UTC))
    finally:
        reset_traceparent(token)
    assert env.traceparent is not None
    assert env.traceparent.split("-")[1] == "ab" * 16  # same trace
    assert env.traceparent != incoming  # new span


def test_subject_and_traceparent_are_optional_when_parsing() -> None:
    headers = valid_headers()
    del headers["ce_subject"], headers["traceparent"]
    env = parse(headers)
    assert env.subject is None and env.traceparent is None
    assert "ce_subject" not in dict(
        Envelope(env.id, env.source, env.type, env.time, None, env.orgs).headers()
    )


@pytest.mark.parametrize("name", ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time"])
def test_a_missing_required_header_is_named_in_the_error(name: str) -> None:
    headers = valid_headers()
    del headers[name]
    with pytest.raises(EnvelopeError) as caught:
        parse(headers)
    assert caught.value.field == name
    assert name in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ce_specversion", "0.3"),
        ("ce_id", "not-a-uuid"),
        ("ce_time", "yesterday"),
        ("ce_time", "2025-03-01T08:00:00"),  # no offset: not RFC 3339, zone unknown
        ("ce_time", "2025-03-01"),  # a date is not an instant
        ("ce_type", ""),
    ],
)
def test_a_malformed_header_is_named_in_the_error(name: str, value: str) -> None:
    headers = valid_headers()
    headers[name] = value
    with pytest.raises(EnvelopeError) as caught:
        parse(headers)
    assert caught.value.field == name


def test_a_header_that_is_not_utf8_is_named_in_the_error() -> None:
    with pytest.raises(EnvelopeError) as caught:
        header_map([("ce_id", b"ok"), ("ce_source", b"\xff\xfe")])
    assert caught.value.field == "ce_source"


def test_parse_errors_never_echo_the_header_value() -> None:
    headers = valid_headers()
    headers["ce_id"] = "alice@example.com"
    with pytest.raises(EnvelopeError) as caught:
        parse(headers)
    assert "alice@example.com" not in str(caught.value)
