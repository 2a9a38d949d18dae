"""French number and date formatting for templates and exports."""
from __future__ import annotations

from datetime import date, datetime

from .clock import to_paris

NBSP = "\u202f"  # narrow no-break space, the French thousands separator


def fr_number(value, decimals: int = 0) -> str:
    if value is None:
        return "non calculable"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", NBSP).replace(".", ",")


def fr_percent(value, decimals: int = 1) -> str:
    if value is None:
        return "non calculable"
    return fr_number(value * 100, decimals) + NBSP + "%"


def fr_euros(value, decimals: int = 2) -> str:
    if value is None:
        return "non calculable"
    return fr_number(value, decimals) + NBSP + "€"


def fr_date(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_paris(value).date()
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def fr_datetime(value) -> str:
    if value is None:
        return ""
    return to_paris(value).strftime("%d/%m/%Y à %H:%M:%S")


FILTERS = {
    "fr_number": fr_number,
    "fr_percent": fr_percent,
    "fr_euros": fr_euros,
    "fr_date": fr_date,
    "fr_datetime": fr_datetime,
}
