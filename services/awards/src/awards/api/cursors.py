"""Opaque page cursors: the position of the last item, so a page is stable under inserts."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from awards.errors import Unprocessable
from awards.repository import FactPosition


def encode(position: FactPosition) -> str:
    at, fact_id = position
    raw = json.dumps([at.isoformat(), fact_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> FactPosition:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, fact_id = json.loads(raw)
        position = (datetime.fromisoformat(at), str(fact_id))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise Unprocessable("not a cursor this API gave out", field="cursor") from exc
    if position[0].tzinfo is None:
        raise Unprocessable("not a cursor this API gave out", field="cursor")
    return position
