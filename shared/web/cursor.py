"""Opaque page cursors: the position of the last item shown, so a page is stable under inserts.

A cursor is URL-safe base64 of ``|``-separated fields. It comes back from the client, so it
is untrusted: its length is bounded before anything is decoded, it is never parsed as JSON
(nesting would be the client's to choose), and every field is checked as strictly as a
request field. Any failure is one 422 naming the field ``cursor``; the value is never quoted.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime

from shared.web.fields import ID_PATTERN
from shared.web.problems import Unprocessable

FIELD = "cursor"
MAX_LENGTH = 512
_SEPARATOR = "|"
_ID = re.compile(ID_PATTERN)


def _refused() -> Unprocessable:
    return Unprocessable("not a cursor this API gave out", field=FIELD)


def _encode(*fields: str) -> str:
    raw = _SEPARATOR.join(fields).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, count: int) -> list[str]:
    if len(cursor) > MAX_LENGTH:
        raise _refused()
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise _refused() from exc
    fields = text.split(_SEPARATOR)
    if len(fields) != count:
        raise _refused()
    return fields


def _key(field: str) -> str:
    if not _ID.fullmatch(field):
        raise _refused()
    return field


def _instant(field: str) -> datetime:
    try:
        at = datetime.fromisoformat(field)
        if at.tzinfo is None:
            raise _refused()
        return at.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise _refused() from exc


def encode_key(key: str) -> str:
    """A cursor after the item with id `key`, for lists in id order."""
    return _encode(key)


def decode_key(cursor: str) -> str:
    return _key(_decode(cursor, 1)[0])


def encode_position(at: datetime, key: str) -> str:
    """A cursor after the item (`at`, `key`), for lists in time order."""
    return _encode(at.astimezone(UTC).isoformat(), key)


def decode_position(cursor: str) -> tuple[datetime, str]:
    at, key = _decode(cursor, 2)
    return _instant(at), _key(key)
