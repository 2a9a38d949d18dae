"""Blank activity workbook generated FROM the contract (contract.yaml).

    blank_template(siret, region_code, year) -> bytes (xlsx)

Sheets: « Instructions » (the contract in words), Identification (pre-filled), the
contract sheets with their headers, a « Codes » sheet listing every code list with its
labels; drop-down lists on coded columns, number/date checks and date formats. The
template validates as soon as Beneficiaires rows, the Moyens values, the Finances amounts
and the contact e-mail are filled in (a test checks it).
"""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from quality_framework.workbook.contract import ColumnSpec, Contract, SheetSpec, load_contract

HEADER_FILL = PatternFill("solid", fgColor="000091")  # DSFR « bleu France »
HEADER_FONT = Font(bold=True, color="FFFFFF")
CODES_SHEET = "Codes"
INSTRUCTIONS_SHEET = "Instructions"
AUTHOR = "Plateforme CEP"
LAST_ROW = 500_001  # validations cover the rows an operator may fill


def blank_template(siret: str, region_code: str, year: int, contract: Contract | None = None) -> bytes:
    c = contract or load_contract()
    wb = Workbook()
    wb.remove(wb.active)
    _instructions(wb.create_sheet(INSTRUCTIONS_SHEET), c, year)
    code_ranges = _codes_sheet(c)  # column name -> "Codes!$A$2:$A$5"; sheet added last
    prefill = {"siret": siret, "code_region": region_code, "annee": int(year)}
    for sheet in c.sheets:
        ws = wb.create_sheet(sheet.name)
        if sheet.layout == "fields":
            _fields_sheet(ws, sheet, prefill if sheet.name == "Identification" else {}, code_ranges, year)
        else:
            _table_sheet(ws, sheet, code_ranges, year)
    _fill_codes_sheet(wb.create_sheet(CODES_SHEET), c)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _header(ws, titles: list[str], widths: list[int]) -> None:
    ws.append(titles)
    for cell in ws[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"


def _instructions(ws, c: Contract, year: int) -> None:
    lines = [
        f"{c.title} — année {year} (à déposer au plus tard le {c.due})",
        "",
        "Remplissez les feuilles Identification, Beneficiaires, Moyens et Finances. Ne renommez pas "
        "les feuilles ni les en-têtes ; l'ordre des colonnes est libre ; les lignes vides sont ignorées.",
        "Dates : JJ/MM/AAAA ou AAAA-MM-JJ. Nombres décimaux : virgule ou point. Codes : voir la feuille Codes.",
        "Aucune donnée personnelle : pas de nom, prénom, téléphone, adresse, date de naissance, "
        "numéro de sécurité sociale ni adresse électronique (sauf contact_email dans Identification).",
        "Finances : un poste absent compte pour 0 ; saisissez 0 ou supprimez la ligne d'un poste sans montant.",
        "",
    ]
    for sheet in c.sheets:
        lines.append(f"Feuille {sheet.name} : {sheet.description}")
        for col in sheet.columns:
            lines.append(f"   • {col.name} : {col.description}. {col.expected_text(year)}."
                         + (" Peut rester vide." if col.nullable else ""))
        lines.append("")
    ws.column_dimensions["A"].width = 160
    for line in lines:
        ws.append([line])
    ws["A1"].font = Font(bold=True, size=14)
    for row in ws.iter_rows():
        row[0].alignment = Alignment(wrap_text=True, vertical="top")


def _codes_sheet(c: Contract) -> dict[str, str]:
    """Where each coded column's list lives in the Codes sheet (two columns per list)."""
    ranges: dict[str, str] = {}
    for i, col in enumerate(_coded_columns(c)):
        letter = get_column_letter(2 * i + 1)
        n = len(col.allowed_codes())
        ranges[col.name] = f"{quote_sheetname(CODES_SHEET)}!${letter}$2:${letter}${n + 1}"
    return ranges


def _coded_columns(c: Contract) -> list[ColumnSpec]:
    return [col for sheet in c.sheets for col in sheet.columns if col.codes is not None or col.reference]


def _fill_codes_sheet(ws, c: Contract) -> None:
    for i, col in enumerate(_coded_columns(c)):
        code_col, label_col = 2 * i + 1, 2 * i + 2
        ws.cell(row=1, column=code_col, value=col.name).font = Font(bold=True)
        ws.cell(row=1, column=label_col, value="libellé").font = Font(bold=True)
        for r, (code, label) in enumerate(col.code_labels().items(), start=2):
            # Numeric-looking codes stay text so that « 01 » keeps its zero.
            ws.cell(row=r, column=code_col, value=code).number_format = "@"
            ws.cell(row=r, column=label_col, value=label)
        ws.column_dimensions[get_column_letter(code_col)].width = max(10, len(col.name) + 2)
        ws.column_dimensions[get_column_letter(label_col)].width = 40


def _validation(col: ColumnSpec, code_ranges: dict[str, str], year: int) -> DataValidation | None:
    message = col.expected_text(year)[:250]  # Excel limit on validation messages
    common = dict(allow_blank=True, showErrorMessage=True, errorTitle=col.name, error=message,
                  showInputMessage=True, promptTitle=col.name[:32], prompt=message)
    if col.name in code_ranges:
        return DataValidation(type="list", formula1=code_ranges[col.name], **common)
    if col.type in ("integer", "decimal") and (col.min is not None or col.max is not None):
        kind = "whole" if col.type == "integer" else "decimal"
        if col.max is not None:
            return DataValidation(type=kind, operator="between", formula1=str(col.min or 0),
                                  formula2=str(col.max), **common)
        operator = "greaterThan" if col.min_exclusive else "greaterThanOrEqual"
        return DataValidation(type=kind, operator=operator, formula1=str(col.min), **common)
    if col.type == "date":
        lo, hi = col.date_bounds(year)
        if lo and hi:
            return DataValidation(type="date", operator="between", formula1=f"DATE({lo.year},{lo.month},{lo.day})",
                                  formula2=f"DATE({hi.year},{hi.month},{hi.day})", **common)
        if hi:
            return DataValidation(type="date", operator="lessThanOrEqual",
                                  formula1=f"DATE({hi.year},{hi.month},{hi.day})", **common)
    return None


def _table_sheet(ws, sheet: SheetSpec, code_ranges: dict[str, str], year: int) -> None:
    _header(ws, [c.name for c in sheet.columns], [max(12, len(c.name) + 4) for c in sheet.columns])
    for i, col in enumerate(sheet.columns, start=1):
        letter = get_column_letter(i)
        ws.cell(row=1, column=i).comment = Comment(f"{col.description}. {col.expected_text(year)}.", AUTHOR,
                                                   width=300, height=120)
        if col.type == "date":
            ws.column_dimensions[letter].number_format = "DD/MM/YYYY"
        elif col.type in ("code", "text"):
            ws.column_dimensions[letter].number_format = "@"
        dv = _validation(col, code_ranges, year)
        if dv is not None:
            dv.add(f"{letter}2:{letter}{LAST_ROW}")
            ws.add_data_validation(dv)
    if sheet.name == "Finances":  # every poste listed once, amount to fill in
        for code in sheet.column("poste").allowed_codes():
            ws.append([code, None])


def _fields_sheet(ws, sheet: SheetSpec, prefill: dict[str, object], code_ranges: dict[str, str], year: int) -> None:
    # Descriptions go in comments: a third column would be a column outside the contract.
    _header(ws, [sheet.key_column, sheet.value_column], [34, 40])
    for r, field in enumerate(sheet.columns, start=2):
        ws.append([field.name, prefill.get(field.name)])
        ws.cell(row=r, column=1).comment = Comment(f"{field.description}. {field.expected_text(year)}.", AUTHOR,
                                                   width=300, height=100)
        dv = _validation(field, code_ranges, year)
        if dv is not None:
            dv.add(f"B{r}")
            ws.add_data_validation(dv)
