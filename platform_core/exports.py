"""Spreadsheet exports users open in Excel or LibreOffice: user text is neutralised
against formula injection, headers are styled and frozen."""
from __future__ import annotations

import io
from typing import Iterable

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_FILL = PatternFill("solid", fgColor="000091")  # DSFR « bleu France »


def safe_text(value):
    """Text starting like a formula is prefixed with an apostrophe, so spreadsheets
    show it as text and never evaluate it. Numbers and dates pass through."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def add_table(ws, headers: list[str], rows: Iterable[Iterable], widths: list[int] | None = None) -> None:
    ws.append(headers)
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
    for row in rows:
        ws.append([safe_text(v) for v in row])
    ws.freeze_panes = ws.cell(row=2, column=1)
    for i, header in enumerate(headers, start=1):
        width = widths[i - 1] if widths else max(12, min(60, len(str(header)) + 4))
        ws.column_dimensions[get_column_letter(i)].width = width


def new_workbook() -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    return wb


def workbook_bytes(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_response(data: bytes, filename: str) -> Response:
    return Response(
        data,
        mimetype=XLSX_MIMETYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
