"""Blank template generated from the contract, and the annotated copy of an upload."""
from __future__ import annotations

import io

from openpyxl import load_workbook

from quality_framework.workbook import validate_workbook
from quality_framework.workbook.annotate import REPORT_SHEET, annotated_workbook
from quality_framework.workbook.template import blank_template
from tests.unit.test_workbook_helpers import (
    HEADERS, MOYENS, REGION, SIRET, YEAR, ben_row, sheets, write_ods, xlsx_bytes,
)


def check(source, **kwargs):
    return validate_workbook(source, expected_siret=SIRET, allowed_regions={REGION}, year=YEAR, **kwargs)


def test_template_structure():
    wb = load_workbook(io.BytesIO(blank_template(SIRET, REGION, YEAR)))
    assert wb.sheetnames == ["Instructions", "Identification", "Beneficiaires", "Moyens", "Finances", "Codes"]
    ident = {row[0]: row[1] for row in wb["Identification"].iter_rows(min_row=2, values_only=True)}
    assert ident == {"siret": SIRET, "code_region": REGION, "annee": YEAR, "contact_email": None}
    ws = wb["Beneficiaires"]
    assert [c.value for c in ws[1]] == HEADERS
    lists = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
    assert lists["D2"].type == "list" and "Codes" in lists["D2"].formula1  # sexe
    assert lists["B2"].type == "date"  # date_entree
    assert ws.column_dimensions["B"].number_format == "DD/MM/YYYY"
    codes = wb["Codes"]
    header = [c.value for c in codes[1]]
    sexe = header.index("sexe") + 1
    assert [codes.cell(row=r, column=sexe).value for r in (2, 3)] == ["F", "H"]
    assert codes.cell(row=2, column=sexe + 1).value == "Femme"
    text = "\n".join(str(r[0]) for r in wb["Instructions"].iter_rows(values_only=True) if r[0])
    assert "date_entree" in text and "01/01/2019" in text


def test_filled_template_is_valid():
    wb = load_workbook(io.BytesIO(blank_template(SIRET, REGION, YEAR)))
    wb["Identification"]["B5"] = "bilan@operateur.fr"
    for r, (_, value) in enumerate(MOYENS[1:], start=2):
        wb["Moyens"].cell(row=r, column=2, value=value)
    for r in range(2, wb["Finances"].max_row + 1):
        wb["Finances"].cell(row=r, column=2, value=1000)
    for i in range(1, 4):
        row = ben_row(i)
        wb["Beneficiaires"].append([row[h] for h in HEADERS])
    out = io.BytesIO()
    wb.save(out)
    result = check(out.getvalue())
    assert result.errors == [] and result.warnings == [], result.to_text()
    assert result.lines == {"Beneficiaires": 3}


def test_annotated_xlsx_highlights_and_comments_faulty_cells():
    data = xlsx_bytes(sheets([ben_row(1, sexe="X"), ben_row(2, niveau_max=1, duree_heures=12)]))
    result = check(data)
    wb = load_workbook(io.BytesIO(annotated_workbook(data, result)))
    cell = wb["Beneficiaires"]["D2"]
    assert "CODE_INCONNU" in cell.comment.text and cell.fill.fgColor.rgb.endswith("FFC9C9")
    warned = wb["Beneficiaires"]["P3"]
    assert "DUREE_NIVEAU1_ELEVEE" in warned.comment.text
    assert wb["Beneficiaires"]["A2"].comment is None
    report = list(wb[REPORT_SHEET].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[6]) for r in report] == [("erreur", "CODE_INCONNU"), ("avertissement", "DUREE_NIVEAU1_ELEVEE")]


def test_annotated_ods_becomes_xlsx(tmp_path):
    path = write_ods(tmp_path / "bilan.ods", sheets([ben_row(1, canal="=HYPERLINK(1)")]))
    data = path.read_bytes()
    result = check(data)
    wb = load_workbook(io.BytesIO(annotated_workbook(data, result)))
    cell = wb["Beneficiaires"]["N2"]
    assert "CODE_INCONNU" in cell.comment.text
    assert cell.data_type == "s" and cell.value.startswith("'=")  # neutralised, not a formula
