"""The federation's calendar: a "year" (hours, budgets, quotas) is the calendar year in the
federation's zone (BIGSCHOOL_FEDERATION_TIMEZONE, default Asia/Shanghai), whatever UTC says —
2026-12-31T23:30Z is already 2027 in Shanghai. Instants are stored in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_date(instant: datetime, zone_name: str) -> date:
    return instant.astimezone(zone(zone_name)).date()


def year_of(instant: datetime, zone_name: str) -> int:
    return instant.astimezone(zone(zone_name)).year


def year_bounds(zone_name: str, year: int) -> tuple[datetime, datetime]:
    """The UTC instants where `year` starts and the next one starts, in the zone."""
    tz = zone(zone_name)
    start = datetime(year, 1, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC)
    return start, end
