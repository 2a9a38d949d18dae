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

import datetime
import re
import unicodedata

import numpy as np
import pandas as pd

_SPACES = r"[\s\u00a0\u202f]"
_SEP = "\x00"
_AROUND_SEP = re.compile(r"\s+(?=\x00)|(?<=\x00)\s+")
_ASCII_SPACES = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def normalise_name(value: object) -> str:
    """Sheet names and headers: case, surrounding spaces and accents ignored."""
    text = unicodedata.normalize("NFKD", str(value if value is not None else "").strip())
    return "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()


def text_of(values: pd.Series) -> pd.Series:
    """Stripped text of each cell ('' when empty), as an object Series."""
    kind = pd.api.types.infer_dtype(values, skipna=False)
    if kind == "empty":
        return pd.Series("", index=values.index, dtype=object)
    cells = values.to_numpy(dtype=object)
    if kind != "string":
        cells = _cell_strings(values, cells)
    shared = _per_distinct(cells, _strip)
    return pd.Series(_strip(cells) if shared is None else shared, index=values.index, dtype=object)


def _per_distinct(texts: np.ndarray, convert) -> np.ndarray | None:
    """`convert` (a whole-column function) applied once per distinct text, the results
    shared between equal cells: codes and dates repeat, and one object per cell would
    cost time and memory. None when values hardly repeat (identifiers) or for short
    columns; the caller then converts every cell."""
    if len(texts) <= 1000:
        return None
    codes, distinct = pd.factorize(texts)
    if 2 * len(distinct) > len(texts) or codes.min() < 0:  # (no missing value in a text column)
        return None
    return np.asarray(convert(np.asarray(distinct, dtype=object)), dtype=object)[codes]


def _cell_strings(values: pd.Series, cells: np.ndarray) -> np.ndarray:
    """Text of non-text cells: calamine returns every number as a float, so an integral
    float reads as an integer (csp 5.0 -> "5"); a midnight datetime reads AAAA-MM-JJ."""
    types = values.map(type).to_numpy()  # one C-level pass classifying the cells
    out = np.empty(len(cells), dtype=object)
    is_float = types == float
    is_none = types == type(None)
    other = ~is_float & ~is_none
    out[is_none] = ""
    if is_float.any():
        floats = cells[is_float].astype(float)
        distinct, position = np.unique(floats, return_inverse=True)
        if 2 * len(distinct) <= len(floats):  # codes, counts: each value converted once
            out[is_float] = _float_strings(distinct)[position.reshape(-1)]
        else:
            out[is_float] = _float_strings(floats)
    if other.any():
        if set(types[other]) <= _SHAREABLE:
            # Dates repeat: each distinct value converted once. A str, a date and a
            # datetime never compare equal to one another, so sharing is exact.
            seen: dict[object, str] = {}
            out[other] = [seen[t] if t in seen else seen.setdefault(t, _other_string(t))
                          for t in cells[other]]
        else:
            out[other] = [_other_string(t) for t in cells[other]]
    return out


_SHAREABLE = {str, datetime.date, datetime.datetime}


def _other_string(value: object) -> str:
    if type(value) is datetime.datetime:
        return str(value).removesuffix(" 00:00:00")
    return str(value)


def _float_strings(floats: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):  # inf % 1 is NaN, and inf is not integral anyway
        integral = np.isfinite(floats) & (np.mod(floats, 1) == 0) & (np.abs(floats) < 1e15)
    as_text = floats.astype(str).astype(object)
    as_text[integral] = floats[integral].astype(np.int64).astype(str)
    as_text[np.isnan(floats)] = ""  # a NaN (grid built with pandas) is an empty cell
    return as_text


def _strip(cells: np.ndarray | list) -> list[str]:
    """Strip every cell in one pass: join on NUL, regex, split. NUL is not allowed in XML
    text, but Excel's escape _x0000_ (and lenient parsers) can still put one in a cell."""
    if len(cells) == 0:
        return []
    joined = _SEP.join(cells)
    if joined.count(_SEP) != len(cells) - 1:  # a cell holds NUL itself (_x0000_, raw byte)
        return [c.strip() for c in cells]
    # Most columns have nothing to strip: checking first is much cheaper than the regex.
    if not joined.isascii() or any(w in joined for w in _ASCII_SPACES):
        joined = _AROUND_SEP.sub("", joined)
    return joined.strip().split(_SEP)


def upper(text: pd.Series) -> pd.Series:
    """Upper case of a whole text column in one pass."""
    if text.empty:
        return text.copy()
    shared = _per_distinct(text.to_numpy(dtype=object), lambda distinct: [t.upper() for t in distinct])
    if shared is not None:
        return pd.Series(shared, index=text.index, dtype=object)
    parts = _SEP.join(text.tolist()).upper().split(_SEP)
    if len(parts) != len(text):  # a cell holds NUL itself
        parts = [t.upper() for t in text.tolist()]
    return pd.Series(parts, index=text.index, dtype=object)


def text_frame(grid: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({c: text_of(grid[c]) for c in grid.columns}, index=grid.index)


def parse_number(values: pd.Series, text: pd.Series) -> pd.Series:
    """Float per cell, NaN when empty or not a number (see module doc for accepted text)."""
    num = pd.to_numeric(values.where(text != ""), errors="coerce").astype(float)
    retry = num.isna() & (text != "")
    if retry.any():  # text such as "12,5" or "1 234,50": only these cells are cleaned
        cleaned = text[retry].str.replace(_SPACES, "", regex=True)
        # A single comma is a decimal comma; text with both ',' and '.' stays invalid.
        has_point = cleaned.str.contains(".", regex=False)
        cleaned = cleaned.where(has_point, cleaned.str.replace(",", ".", regex=False))
        cleaned = cleaned.where(~cleaned.str.contains(r"[^0-9.+\-eE]", regex=True), "x")
        num = num.copy()
        num[retry] = pd.to_numeric(cleaned, errors="coerce").astype(float)
    return num.where(np.isfinite(num))


def parse_date(text: pd.Series) -> pd.Series:
    """datetime64 per cell, NaT when empty or not a date in an accepted form."""
    nonempty = text != ""
    dates = pd.to_datetime(text.where(nonempty), format="%Y-%m-%d", errors="coerce")
    for attempt in ("%d/%m/%Y", "with time"):
        missing = dates.isna() & nonempty
        if not missing.any():
            break
        subset = text[missing]
        if attempt == "with time":  # a real date with a time part, or such text
            subset = subset.str.replace(r"[ T]\d{1,2}:\d\d(:\d\d(\.\d+)?)?$", "", regex=True)
            attempt = "%Y-%m-%d"
        dates = dates.copy()
        dates[missing] = pd.to_datetime(subset, format=attempt, errors="coerce")
    return dates.astype("datetime64[ns]") if _fits_ns(dates) else dates


def _fits_ns(dates: pd.Series) -> bool:
    valid = dates.dropna()
    return valid.empty or (valid.min().year > 1677 and valid.max().year < 2262)
