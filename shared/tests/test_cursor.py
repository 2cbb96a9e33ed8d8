"""Page cursors: what the API gives out comes back intact; anything else is one 422 naming
`cursor`, however it was forged, and never a 500."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.web import cursor
from shared.web.problems import Unprocessable

ITEM = "5b6f0b8e-0a7e-4c61-b0f1-3c3b1e1d0a01"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_position_cursor_comes_back_as_the_same_utc_instant_and_key() -> None:
    at = datetime(2030, 5, 1, 16, 0, tzinfo=timezone(timedelta(hours=8)))

    token = cursor.encode_position(at, ITEM)

    assert cursor.decode_position(token) == (datetime(2030, 5, 1, 8, 0, tzinfo=UTC), ITEM)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_a_key_cursor_comes_back_as_the_same_key() -> None:
    assert cursor.decode_key(cursor.encode_key(ITEM)) == ITEM


FORGED = {
    "not-base64": "not a cursor!",
    "base64-of-nothing-useful": b64(b"nope"),
    "deeply-nested-json": b64(b"[" * 100_000),
    "json-of-a-former-cursor": b64(b'["2030-05-01T08:00:00+00:00", "x"]'),
    "too-many-fields": b64(f"2030-05-01T08:00:00+00:00|{ITEM}|more".encode()),
    "naive-time": b64(f"2030-05-01T08:00:00|{ITEM}".encode()),
    "time-past-year-9999": b64(f"9999-12-31T23:59:59-01:00|{ITEM}".encode()),
    "nul-in-key": b64(b"2030-05-01T08:00:00+00:00|a\x00b"),
    "empty-key": b64(b"2030-05-01T08:00:00+00:00|"),
    "not-utf8": b64(b"\xff\xfe|\xff"),
    "too-long": "A" * (cursor.MAX_LENGTH + 1),
}


@pytest.mark.parametrize("forged", FORGED.values(), ids=FORGED.keys())
def test_a_forged_position_cursor_is_a_422_naming_the_cursor(forged: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        cursor.decode_position(forged)

    assert caught.value.field == "cursor"
    assert caught.value.body("/x")["errors"] == [
        {"field": "cursor", "reason": "not a cursor this API gave out"}
    ]


@pytest.mark.parametrize(
    "forged",
    [b64(b"a\x00b"), b64(b"a|b"), b64(b"[" * 100_000), b64(b"a\nb"), "%%%"],
    ids=["nul", "two-fields", "deeply-nested-json", "newline", "not-base64"],
)
def test_a_forged_key_cursor_is_a_422_naming_the_cursor(forged: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        cursor.decode_key(forged)

    assert caught.value.field == "cursor"


def test_a_cursor_longer_than_the_limit_is_refused_before_it_is_decoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def must_not_decode(*_args: object, **_kwargs: object) -> bytes:
        raise AssertionError("decoded a cursor over the length limit")

    monkeypatch.setattr(base64, "b64decode", must_not_decode)  # the module cursor decodes with

    with pytest.raises(Unprocessable):
        cursor.decode_key("A" * (cursor.MAX_LENGTH + 1))
