"""An injectable clock: scheduled work and tests read time from here, never from datetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


class OffsetFileClock:
    """The system clock moved forward by the number of seconds in a file — how the
    end-to-end tests advance the time of running services (an offer's 48 hours pass in a
    moment). Set only by BIGSCHOOL_CLOCK_OFFSET_FILE; a missing or unreadable file is 0."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime: float | None = None
        self._offset = timedelta()

    def now(self) -> datetime:
        try:
            mtime = self.path.stat().st_mtime
            if mtime != self._mtime:
                self._offset = timedelta(seconds=float(self.path.read_text().strip() or 0))
                self._mtime = mtime
        except (OSError, ValueError):
            self._offset = timedelta()
        return datetime.now(UTC) + self._offset
