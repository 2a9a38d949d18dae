"""Column-wise text of raw cells (quality_framework/workbook/cells.py) against the
per-cell definition: str(value).strip(), '' for an empty cell."""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pandas as pd

from quality_framework.workbook.cells import text_of, upper


def test_long_text_columns_with_repeated_codes_read_as_each_cell_stripped():
    codes = [" F", "H ", "F", "\u00a0H\u00a0", "", "  ", "F\t", "Écrit "]
    values = pd.Series([codes[i % len(codes)] for i in range(5_000)], dtype=object)
    text = text_of(values)
    assert text.tolist() == [v.strip() for v in values]
    assert list(text.index) == list(values.index)


def test_long_identifier_columns_read_as_each_cell_stripped():
    values = pd.Series([f" P-{i} " for i in range(3_000)], index=range(7, 3_007), dtype=object)
    text = text_of(values)
    assert text.tolist() == [f"P-{i}" for i in range(3_000)] and text.index[0] == 7


def per_cell(value) -> str:
    """The definition, one cell at a time (module doc of cells.py)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else str(value)
    if isinstance(value, datetime):
        return str(value).removesuffix(" 00:00:00")
    return str(value).strip()


MIXED = ["date_entree", 5.0, 12.5, float("nan"), None, date(2025, 3, 15), datetime(2025, 3, 15),
         datetime(2025, 3, 15, 8, 30), -3.0, 1e15, 1e16, float("inf"), " texte ", True, 0.1]


def test_mixed_columns_with_repeated_values_read_as_each_cell():
    values = pd.Series(MIXED * 400, dtype=object)
    assert text_of(values).tolist() == [per_cell(v) for v in values]


def test_columns_of_distinct_numbers_and_dates_read_as_each_cell():
    values = pd.Series(["en-tête"] + [i / 7 for i in range(3_000)]
                       + [date(2000, 1, 1) + timedelta(days=i) for i in range(3_000)], dtype=object)
    assert text_of(values).tolist() == [per_cell(v) for v in values]


def test_upper_of_long_columns_with_repeated_codes_and_of_identifiers():
    codes = pd.Series(["f", "h", "Ab", "", "é"] * 600, index=range(5, 3_005), dtype=object)
    assert upper(codes).tolist() == [c.upper() for c in codes] and upper(codes).index[0] == 5
    identifiers = pd.Series([f"p-{i}" for i in range(2_000)], dtype=object)
    assert upper(identifiers).tolist() == [f"P-{i}" for i in range(2_000)]
