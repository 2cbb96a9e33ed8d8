"""Public notices and objections: when a notice is open, and what becomes of an objection
when it reaches the scheme's owner. Pure: no fastapi, sqlalchemy or faststream."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from awards.domain.nominations import StepRefused, object_to, resolve_objection
from shared.contracts.events import NominationState

LATE = "filed after the notice period"


class ObjectionStatus(StrEnum):
    open = "open"
    upheld = "upheld"
    dismissed = "dismissed"


def notice_ends(starts_at: datetime, notice_days: int) -> datetime:
    return starts_at + timedelta(days=notice_days)


def notice_open(ends_at: datetime, now: datetime) -> bool:
    return now < ends_at


def on_arrival(state: NominationState, submitted_at: datetime) -> NominationState | str:
    """At the owner: the nomination's state with the objection open, or — when it may no
    longer be objected to — the answer the objection is dismissed with. An objection counts
    as filed when the member filed it (`submitted_at`), however late it arrives."""
    if state.notice_ends_at is not None and not notice_open(state.notice_ends_at, submitted_at):
        return LATE
    try:
        return object_to(state, submitted_at)
    except StepRefused as refused:
        return f"not taken up: {refused}"


def resolved(state: NominationState, upheld: bool) -> tuple[NominationState, ObjectionStatus]:
    """The nomination after the owner's answer (upheld withdraws it), and the objection's
    status. StepRefused when the nomination has no open objection."""
    status = ObjectionStatus.upheld if upheld else ObjectionStatus.dismissed
    return resolve_objection(state, upheld), status
