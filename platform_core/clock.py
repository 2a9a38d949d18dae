"""One source of time. Stored datetimes are naive UTC; pages show Europe/Paris."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def now() -> datetime:
    """Current time, naive UTC (what the database stores)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def today_paris() -> date:
    return datetime.now(PARIS).date()


def to_paris(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc).astimezone(PARIS)


def paris_to_utc(value: datetime) -> datetime:
    """A wall-clock time typed by a French user, as naive UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=PARIS)
    return value.astimezone(timezone.utc).replace(tzinfo=None)
