"""Size of the grid a sheet will occupy once read, estimated from its XML BEFORE the
spreadsheet library reads it.

python-calamine builds every sheet as a dense rectangle (rows × columns of the farthest
non-empty cells). A few hundred bytes can therefore ask for billions of cells: two cells
A1 and XFD400000 in an .xlsx, or one cell repeated with `table:number-columns-repeated`
and `table:number-rows-repeated` in an .ods. The allocation then fails inside Rust, which
ABORTS the whole process (no Python exception). So the reader refuses, from these
estimates, a sheet taller than `max_rows` or larger than `max_cells`, before calamine.

The estimates are upper bounds of what calamine allocates (never smaller), and cheap on
honest files: a few regex passes over the sheet XML, a second pass only for wide sheets.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_ROW_R = re.compile(rb'<row\s[^>]*?\br="(\d+)"')
# A cell reference with 2 or 3 letters (column AA or beyond). Simple patterns starting
# with a literal on purpose: they run over every byte of the sheet (a lazy « <c …> »
# pattern was 10 times slower, a leading « \s » 5 times). The byte before is checked
# in Python, on the (few) matches only.
_WIDE_REF = re.compile(rb'r="([A-Z]{2,3})\d+"')
_CELL_WITHOUT_R = re.compile(rb'<c(?:>|/>|\s(?!r="))')
_ANY_REF_ROW = re.compile(rb'\sr="[A-Z]{1,3}(\d+)"')
_OVERLAP = 256
_MAX_PENDING = 1024 * 1024  # longer than any honest tag


def column_number(letters: bytes | str) -> int:
    """A -> 1, Z -> 26, AA -> 27, XFD -> 16384."""
    n = 0
    for ch in letters.decode() if isinstance(letters, bytes) else letters:
        n = n * 26 + ord(ch) - 64
    return n


@dataclass
class Extent:
    rows: int = 0
    columns: int = 0

    @property
    def cells(self) -> int:
        return self.rows * self.columns


class XlsxSheetScan:
    """Fed with the chunks of one worksheet XML; `extent(rescan)` gives the estimate.

    Rows: the largest `<row r="…">` plus the rows written without `r` (or the number of
    rows, if larger). Columns: 26
    (A–Z) or the farthest non-empty cell of column AA or beyond, or, when some cells
    have no `r`, the largest number of cells in one row. Cells carry their own reference,
    which calamine follows even when it disagrees with their row: for a sheet wider than
    `wide`, a second pass (`rescan`) reads every cell reference to get the true height."""

    def __init__(self) -> None:
        self._pending = b""
        self.max_row_r = 0
        self.rows = 0
        self.rows_with_r = 0
        self.max_col = 0
        self.cell_without_r = False
        self.any_cell = False

    def feed(self, chunk: bytes) -> None:
        # Every token looked for starts with « < » and holds no other « < »: scanning up
        # to the last « < » and keeping the rest for the next chunk counts each token
        # exactly once, with plain bytes.count (no overlap to subtract).
        buf = self._pending + chunk
        cut = buf.rfind(b"<")
        if cut == -1:
            buf, self._pending = b"", b""  # no tag starts here
        elif cut == 0 and len(buf) > _MAX_PENDING:
            self._pending = b""  # one giant tag: scanned now, not carried further
        else:
            buf, self._pending = buf[:cut], buf[cut:]
        self._scan(buf)

    def _scan(self, buf: bytes) -> None:
        # Few plain searches per chunk, on purpose: this runs over every byte of the sheet.
        self.rows += buf.count(b"<row")  # a <rowBreaks> counts too: still an upper bound
        numbers = _ROW_R.findall(buf)
        if numbers:
            self.rows_with_r += len(numbers)
            self.max_row_r = max(self.max_row_r, max(map(int, numbers)))
        if not self.any_cell and b"<c" in buf:
            self.any_cell = True  # (a <cols> too: only ever widens the estimate to A-Z)
        for m in _WIDE_REF.finditer(buf):
            if not buf[m.start() - 1:m.start()].isspace():
                continue  # « xr="AB1" »: another attribute
            end = buf.find(b">", m.end())
            if end != -1 and buf[end - 1:end] == b"/":
                continue  # a self-closing cell is empty (styled at most): calamine skips it
            self.max_col = max(self.max_col, column_number(m.group(1)))
        # A cell written without r (or with r not first): the columns are then counted
        # cell by cell in the second pass. One such cell is enough to know.
        if not self.cell_without_r and _CELL_WITHOUT_R.search(buf):
            self.cell_without_r = True

    def extent(self, wide: int, rescan: Iterable[bytes]) -> Extent:
        pending, self._pending = self._pending, b""
        self._scan(pending)
        rows_without_r = max(self.rows - self.rows_with_r, 0)
        rows = max(self.max_row_r + rows_without_r, self.rows)
        columns = max(self.max_col, 26 if self.any_cell else 0)
        if self.cell_without_r or columns > wide:  # rare: a second pass over the XML
            max_cell_row, widest_row = _second_pass(rescan)
            columns = max(columns, widest_row if self.cell_without_r else 0)
            if columns > wide:  # cells carry their own row, which calamine follows
                rows = max(rows, max_cell_row + rows_without_r)
        return Extent(rows, columns)


def _second_pass(chunks: Iterable[bytes]) -> tuple[int, int]:
    """(farthest row any cell reference points to, largest number of cells in one row)."""
    best_row, widest, tail = 0, 0, b""
    for chunk in chunks:
        buf = tail + chunk
        for m in _ANY_REF_ROW.finditer(buf):
            best_row = max(best_row, int(m.group(1)))
        rows = buf.split(b"<row")
        for row in rows[:-1]:  # the last piece may continue in the next chunk
            widest = max(widest, _cells_in(row))
        tail = rows[-1] if len(rows[-1]) < 64 * 1024 * 1024 else rows[-1][-_OVERLAP:]
    if tail:
        widest = max(widest, _cells_in(tail))
    return best_row, widest


def _cells_in(row: bytes) -> int:
    return row.count(b"<c ") + row.count(b"<c>") + row.count(b"<c/>")


# --------------------------------------------------------------------------- ods

_TABLE = re.compile(rb"<table:table[\s>]")
_ROW = re.compile(rb"<table:table-row[\s>/]")
_ROWS_REPEATED = re.compile(rb'table:number-rows-repeated="(\d+)"')
_CELL = re.compile(rb"<table:(?:covered-)?table-cell\b([^>]*?)(/?)>")
_COLS_REPEATED = re.compile(rb'table:number-columns-repeated="(\d+)"')


def ods_extents(content: bytes) -> Iterator[tuple[str, Extent]]:
    """(table name, extent) of each table of an .ods content.xml. Repeated rows and cells
    (table:number-*-repeated) count as many times as they are repeated when they hold
    something; LibreOffice's trailing repeated EMPTY rows and cells count for nothing."""
    for n, table in enumerate(_TABLE.split(content)[1:]):
        name = re.search(rb'table:name="([^"]*)"', table[:1000])
        extent, row_index = Extent(), 0
        for row in _ROW.split(table)[1:]:
            head = row[: row.find(b">") + 1]
            m = _ROWS_REPEATED.search(head)
            repeat = int(m.group(1)) if m else 1
            if b"office:value-type" in row or b"<text:p" in row:
                extent.rows = row_index + repeat
                extent.columns = max(extent.columns, _ods_row_width(row))
            row_index += repeat
        yield (name.group(1).decode("utf-8", "replace") if name else f"#{n + 1}"), extent


def _ods_row_width(row: bytes) -> int:
    if b"number-columns-repeated" not in row:
        return row.count(b"<table:table-cell") + row.count(b"<table:covered-table-cell")
    col = last = 0
    for m in _CELL.finditer(row):
        attrs, closed = m.group(1), m.group(2)
        rep = _COLS_REPEATED.search(attrs)
        repeat = int(rep.group(1)) if rep else 1
        if not closed or b"office:value-type" in attrs:
            last = col + repeat
        col += repeat
    return last
