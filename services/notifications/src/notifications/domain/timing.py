"""When a notice may go out: quiet hours and the daily digest, on the member's local clock.

Pure functions of an instant (UTC) and an IANA zone. Local wall-clock times are turned into
instants with `zoneinfo`, so a window that ends on a day the clocks change still ends at its
local time: a time skipped by a spring-forward gap is read with the offset before the change
(02:30 that never happened is 03:30 new time), a time that happens twice (fall-back) is the
first occurrence still ahead. A deferral is never earlier than the instant it is made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# "22:00-07:00": a window from its start (included) to its end (excluded), local time; it may
# cross midnight. "off": no quiet hours.
QUIET_OFF = "off"
QUIET_PATTERN = r"^(?:off|(?:[01]\d|2[0-3]):[0-5]\d-(?:[01]\d|2[0-3]):[0-5]\d)$"
_WINDOW = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")

MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class QuietHours:
    """A daily window, as minutes after local midnight; start != end."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str | None) -> QuietHours | None:
        """The window `text` ("HH:MM-HH:MM") describes; None for "off" or nothing."""
        match = _WINDOW.match(text or "")
        if match is None:
            return None
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        window = cls(h1 * 60 + m1, h2 * 60 + m2)
        return window if window.start != window.end else None

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"

    def contains(self, minute: int) -> bool:
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end  # across midnight


def describe(window: QuietHours | None) -> str:
    return QUIET_OFF if window is None else str(window)


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def local_instant(day: date, minute: int, tz: ZoneInfo, after: datetime) -> datetime | None:
    """The first instant after `after` at which the local clock shows `minute` on `day`
    (either occurrence of an ambiguous time; a skipped one maps past the gap), or None."""
    wall = time(minute // 60, minute % 60)
    for fold in (0, 1):
        instant = datetime.combine(day, wall, tzinfo=tz).replace(fold=fold).astimezone(UTC)
        if instant > after:
            return instant
    return None


def quiet_until(now: datetime, window: QuietHours | None, tz: ZoneInfo) -> datetime | None:
    """The end of the quiet window `now` falls in (the member's local clock), or None when
    `now` is not inside one."""
    if window is None:
        return None
    local = now.astimezone(tz)
    if not window.contains(local.hour * 60 + local.minute):
        return None
    today = local.date()
    # Across midnight, the part after the start ends tomorrow; otherwise the window ends today.
    ends_tomorrow = window.start > window.end and local.hour * 60 + local.minute >= window.start
    day = today + timedelta(days=1) if ends_tomorrow else today
    return local_instant(day, window.end, tz, now) or local_instant(
        day + timedelta(days=1), window.end, tz, now
    )


def next_digest(now: datetime, hour: int, tz: ZoneInfo) -> datetime:
    """The next moment (strictly after `now`) the local clock reaches `hour`:00 — the digest
    that collects what is planned now."""
    today = now.astimezone(tz).date()
    for day in (today, today + timedelta(days=1), today + timedelta(days=2)):
        instant = local_instant(day, hour * 60, tz, now)
        if instant is not None:
            return instant
    raise AssertionError("a local hour recurs within two days")  # pragma: no cover
