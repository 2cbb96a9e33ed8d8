"""Opaque page cursors for newest-first lists: the (created_at, id) of the last item shown."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from notifications.errors import Unprocessable


def encode(at: datetime, item_id: str) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{item_id}".encode()).decode()


def decode(cursor: str) -> tuple[datetime, str]:
    try:
        at, _, item_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        moment = datetime.fromisoformat(at)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise Unprocessable("not a cursor this API handed out", field="cursor") from exc
    if moment.tzinfo is None or not item_id:
        raise Unprocessable("not a cursor this API handed out", field="cursor")
    return moment, item_id
