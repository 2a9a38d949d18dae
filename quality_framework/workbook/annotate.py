"""The operator's own workbook with every faulty cell highlighted and commented.

    annotated_workbook(original_bytes, result) -> bytes (xlsx)

For an .xlsx upload the operator's file is opened with openpyxl (formulas, styles and
layout kept; macros and external links are refused earlier by the reader) and annotated.
For an .ods upload an .xlsx is rebuilt from the values read, then annotated. A
« Rapport de validation » sheet lists every problem, including those without a cell
(missing sheet or column). Call it only on a file `read_workbook` accepted.
"""
from __future__ import annotations

import io
from collections import defaultdict

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from quality_framework.workbook.problems import ERROR, Problem, ValidationResult
from quality_framework.workbook.reader import read_workbook

ERROR_FILL = PatternFill("solid", fgColor="FFC9C9")  # light red
WARNING_FILL = PatternFill("solid", fgColor="FFE9B0")  # light orange
HEADER_FILL = PatternFill("solid", fgColor="000091")
REPORT_SHEET = "Rapport de validation"
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_AUTHOR = "Plateforme CEP"


def safe_text(value: object) -> object:
    """User text that starts like a formula is shown as text, never evaluated; control
    characters that XML cannot hold (NUL, ESC… read from _x0000_ escapes) become « � »."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
        if value.startswith(_FORMULA_TRIGGERS):
            return "'" + value
    return value


def annotated_workbook(original_bytes: bytes, result: ValidationResult) -> bytes:
    raw = read_workbook(original_bytes)
    wb = None
    if raw.format == "xlsx":
        try:
            wb = load_workbook(io.BytesIO(original_bytes), keep_links=False)
        except Exception:  # calamine is more lenient (raw control bytes in XML): use its values
            wb = None
    if wb is None:
        wb = _rebuild(raw.sheets)
    _mark_cells(wb, result.errors + result.warnings)
    _report_sheet(wb, result)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _rebuild(sheets: dict[str, pd.DataFrame]) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    for name, grid in sheets.items():
        ws = wb.create_sheet(name[:31])
        for row in grid.itertuples(index=False):
            ws.append([None if v == "" else safe_text(v) for v in row])
    return wb


def _mark_cells(wb: Workbook, problems: list[Problem]) -> None:
    by_cell: dict[tuple[str, str], list[Problem]] = defaultdict(list)
    for p in problems:
        if p.ligne is not None and p.lettre and p.feuille in wb.sheetnames:
            by_cell[(p.feuille, f"{p.lettre}{p.ligne}")].append(p)
    for (sheet, ref), found in by_cell.items():
        cell = wb[sheet][ref]
        has_error = any(p.severite == ERROR for p in found)
        cell.fill = ERROR_FILL if has_error else WARNING_FILL
        text = "\n".join(f"{'Erreur' if p.severite == ERROR else 'Avertissement'} {p.code} : {p.message}"
                         for p in found)
        cell.comment = Comment(text, _AUTHOR, width=320, height=max(80, 40 * len(found)))


def _report_sheet(wb: Workbook, result: ValidationResult) -> None:
    name = REPORT_SHEET
    if name in wb.sheetnames:
        del wb[name]
    ws = wb.create_sheet(name, 0)
    headers = ["Sévérité", "Feuille", "Ligne", "Colonne", "Lettre", "Valeur", "Code", "Message"]
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
    for p in result.errors + result.warnings:
        ws.append([p.severite, safe_text(p.feuille), p.ligne, safe_text(p.colonne), p.lettre,
                   safe_text(p.valeur), p.code, p.message])
    for i, width in enumerate((14, 18, 8, 24, 8, 24, 30, 90), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    if not result.errors and not result.warnings:
        ws.append(["", "", None, "", "", "", "", "Aucun problème : le classeur est conforme."])
