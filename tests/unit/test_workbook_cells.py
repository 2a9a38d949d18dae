"""Column-wise text of raw cells (quality_framework/workbook/cells.py) against the
per-cell definition: str(value).strip(), '' for an empty cell."""
from __future__ import annotations

import pandas as pd

from quality_framework.workbook.cells import text_of


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
