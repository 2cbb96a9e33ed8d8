"""Stipends: the yearly maintenance award that comes with a title. A scheme with a stipend
gives each nomination it grants a schedule of `years` payments, the first due when the grant
is published and then on each anniversary; a payment is raised once, when it is due."""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from shared.contracts.events import SchemeKind, Stipend

# Titles a person (or a team) holds — model worker and its like. The other kinds are one-off
# awards (top earner, proposal, invention, energy saving, …): a stipend never comes with them.
TITLE_KINDS: frozenset[str] = frozenset(
    {
        SchemeKind.model_worker,
        SchemeKind.star_team,
        SchemeKind.star_employee,
        SchemeKind.pioneer_worker,
        SchemeKind.skilled_craftsman,
        SchemeKind.operational_expert,
        SchemeKind.technical_post_leader,
    }
)


@dataclass(frozen=True)
class Terms:
    yearly_fen: int
    years: int


def terms_of(kind: str, stipend: Stipend | None) -> Terms | None:
    """The stipend a grant of this scheme carries, if any."""
    if stipend is None or kind not in TITLE_KINDS:
        return None
    return Terms(stipend.yearly_fen, stipend.years)


def anniversary(start: datetime, years: int, zone: str) -> datetime:
    """`start` moved by whole years on the federation's calendar: the same local day and
    time of day; a 29 February falls on the 28th in a year without one."""
    local = start.astimezone(ZoneInfo(zone))
    year = local.year + years
    day = min(local.day, monthrange(year, local.month)[1])
    return local.replace(year=year, day=day).astimezone(UTC)


def due_dates(starts_at: datetime, years: int, zone: str) -> list[datetime]:
    """When each payment falls due: at the start, then on each anniversary."""
    return [anniversary(starts_at, n, zone) for n in range(years)]


class PaymentStatus(StrEnum):
    scheduled = "scheduled"  # its day has not come
    due = "due"  # its day has come and it is not paid (the job raises it; or the budget is short)
    paid = "paid"


class PaymentRefused(Exception):
    """The payment is not due, or paid already: raising it again would pay twice."""


@dataclass(frozen=True)
class Payment:
    number: int
    due_at: datetime
    paid_at: datetime | None = None

    def status(self, now: datetime) -> PaymentStatus:
        if self.paid_at is not None:
            return PaymentStatus.paid
        return PaymentStatus.due if self.due_at <= now else PaymentStatus.scheduled

    def pay(self, now: datetime) -> Payment:
        status = self.status(now)
        if status is not PaymentStatus.due:
            raise PaymentRefused(f"payment {self.number} is {status}, not due")
        return replace(self, paid_at=now)
