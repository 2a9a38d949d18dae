"""Column-wise (vectorised) conversion of raw cells to text, numbers and dates.

Accepted presentations, chosen to be tolerant about how operators' tools write cells:
- text: surrounding spaces ignored; a number cell that is integral reads as its integer
  text (csp 5.0 -> "5", id 123.0 -> "123"); a real date reads "AAAA-MM-JJ".
- numbers: real numbers, or text with a decimal comma or point ("12,5", "12.5"), spaces
  (including non-breaking ones) allowed as thousands separators ("1 234,50"). Other
  thousands separators ("1.234,5", "1,234.5") are refused: they are ambiguous.
- dates: real spreadsheet dates (a time part is ignored), or text JJ/MM/AAAA (day and
  month may have one digit) or AAAA-MM-JJ. Numbers (date serials) are refused.
"""
from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

_SPACES = r"[\s\u00a0\u202f]"


def normalise_name(value: object) -> str:
    """Sheet names and headers: case, surrounding spaces and accents ignored."""
    text = unicodedata.normalize("NFKD", str(value if value is not None else "").strip())
    return "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()


def text_of(values: pd.Series) -> pd.Series:
    """Stripped text of each cell ('' when empty), as an object Series."""
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind == "string":  # the common case: nothing but text cells
        return values.fillna("").str.strip()
    text = values.astype(str).fillna("").str.strip()
    if kind != "empty":
        # Integral floats (how calamine returns every number) and midnight datetimes.
        text = text.str.replace(r"^(-?\d+)\.0$", r"\1", regex=True)
        text = text.str.replace(r"^(\d{4}-\d\d-\d\d) 00:00:00$", r"\1", regex=True)
    return text.astype(object)


def text_frame(grid: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({c: text_of(grid[c]) for c in grid.columns}, index=grid.index)


def parse_number(values: pd.Series, text: pd.Series) -> pd.Series:
    """Float per cell, NaN when empty or not a number (see module doc for accepted text)."""
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("floating", "integer", "mixed-integer-float"):
        num = pd.to_numeric(values, errors="coerce")
    else:
        cleaned = text.str.replace(_SPACES, "", regex=True)
        # A single comma is a decimal comma; text with both ',' and '.' stays invalid.
        has_point = cleaned.str.contains(".", regex=False)
        cleaned = cleaned.where(has_point, cleaned.str.replace(",", ".", regex=False))
        cleaned = cleaned.where(~cleaned.str.contains(r"[^0-9.+\-eE]", regex=True), "x")
        num = pd.to_numeric(cleaned, errors="coerce")
        # Text cells that are real numbers but not bool etc. keep their value.
    num = num.astype(float)
    return num.where(np.isfinite(num))


def parse_date(text: pd.Series) -> pd.Series:
    """datetime64 per cell, NaT when empty or not a date in an accepted form."""
    nonempty = text != ""
    dates = pd.to_datetime(text.where(nonempty), format="%d/%m/%Y", errors="coerce")
    missing = dates.isna() & nonempty
    if missing.any():
        iso = text[missing].str.replace(r"[ T]\d{1,2}:\d\d(:\d\d(\.\d+)?)?$", "", regex=True)
        dates = dates.copy()
        dates[missing] = pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce")
    return dates.astype("datetime64[ns]", copy=False) if _fits_ns(dates) else dates


def _fits_ns(dates: pd.Series) -> bool:
    valid = dates.dropna()
    return valid.empty or (valid.min().year > 1677 and valid.max().year < 2262)
