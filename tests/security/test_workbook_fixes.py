"""Regression tests for the bugs the hostile corpus found in the workbook reader:

- a sparse sheet (cells A1 and XFD400000) or an .ods repeating one cell over millions of
  rows and columns made calamine allocate the whole rectangle: the allocation failed in
  Rust and ABORTED the process (SIGABRT, no Python exception) — now refused from the XML;
- a sheet of 1 000 000 rows was parsed entirely (≈ 800 MB) before the row bound refused
  it — now refused before calamine reads it;
- a NUL character in a cell (Excel escape _x0000_, or a raw byte accepted by calamine)
  broke the one-pass text conversion (ValueError) — now reported as a wrong value;
- the annotated copy of such a workbook failed (openpyxl refuses control characters);
- values echoed in reports kept control characters (ESC sequences reached the terminal
  through the CLI text report) — now shown as U+FFFD.
"""
from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import zipfile

import openpyxl
import pytest
import python_calamine

from quality_framework.workbook import UnreadableWorkbook, read_workbook, validate_workbook
from quality_framework.workbook.annotate import annotated_workbook
from quality_framework.workbook.extent import XlsxSheetScan, ods_extents
from tests.security import hostile_corpus as hc

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def check(data: bytes):
    return validate_workbook(data, expected_siret=hc.SIRET, allowed_regions={hc.REGION}, year=hc.YEAR)


def refused(data: bytes, **kwargs) -> str:
    with pytest.raises(UnreadableWorkbook) as exc:
        read_workbook(data, **kwargs)
    return exc.value.message


@pytest.fixture
def no_calamine(monkeypatch):
    """Fails the test if the spreadsheet library is asked to read the file."""
    def forbidden(*args, **kwargs):
        raise AssertionError("calamine must not read this file")
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", forbidden)


def test_far_apart_cells_are_refused_before_calamine(no_calamine):
    message = refused(hc.far_cells(row=400_000))
    assert "400 000 lignes et 16 384 colonnes" in message
    assert "cellules autorisées" in message and "Supprimez les cellules en dehors du tableau" in message


def test_far_apart_cells_no_longer_abort_the_process(tmp_path):
    """Before the fix this child died of SIGABRT (« memory allocation of 209715200000 bytes failed »)."""
    path = tmp_path / "far.xlsx"
    path.write_bytes(hc.far_cells(row=400_000))
    code = textwrap.dedent(f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024 ** 2, 1536 * 1024 ** 2))
        from quality_framework.workbook import UnreadableWorkbook, read_workbook
        try:
            read_workbook({str(path)!r})
        except UnreadableWorkbook as exc:
            print("REFUSED", exc.message)
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("REFUSED")


def test_ods_with_repeated_cells_is_refused_before_calamine(no_calamine):
    assert "1 000 003 lignes" in refused(hc.ods_repeated(rows=1_000_000, cols=16_384))
    message = refused(hc.ods_repeated(rows=100_000, cols=1_000))  # under the row bound, too many cells
    assert "100 003 lignes et 1 000 colonnes" in message


def test_million_rows_refused_by_the_row_bound_before_calamine(no_calamine):
    message = refused(hc.many_rows(1_000_000))
    assert "1 000 000 lignes, plus que le maximum autorisé (500 000 lignes)" in message


def test_row_bound_is_the_same_before_and_after_calamine():
    data = hc.many_rows(1_200)
    assert "1 200 lignes" in refused(data, max_rows=1_000)
    assert read_workbook(data, max_rows=1_200).sheets["Beneficiaires"].shape[0] == 1_200


def test_wide_but_short_sheet_is_still_read():
    raw = read_workbook(hc.all_columns(n_cols=2_000, n_rows=2))
    assert raw.sheets["Beneficiaires"].shape == (3, 2_000)


def test_styled_empty_far_cells_do_not_count():
    """Excel writes formatted empty cells as self-closing <c r="…" s="…"/>: calamine skips them."""
    base = hc.valid_xlsx()
    sheet = hc.member(base, hc.BENEF_XML).replace(
        b"</sheetData>", b'<row r="400000"><c r="XFD400000" s="0"/></row></sheetData>', 1)
    scan = XlsxSheetScan()
    scan.feed(sheet)
    assert scan.extent(50, [sheet]).columns == 26
    assert check(hc.rezip(base, replace={hc.BENEF_XML: sheet})).valid


def test_cells_without_reference_count_by_rank():
    """<c> without r: the column is the rank in the row. One row of 20 000 cells and
    2 000 rows: a 40 000 000-cell grid from a sheet of a few hundred kilobytes."""
    wide_row = "<row>" + "<c/>" * 19_999 + "<c><v>1</v></c></row>"
    xml = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
           + wide_row + "<row><c><v>1</v></c></row>" * 2_000 + "</sheetData></worksheet>").encode()
    scan = XlsxSheetScan()
    for i in range(0, len(xml), 1000):  # small chunks: tokens are split across chunks
        scan.feed(xml[i:i + 1000])
    extent = scan.extent(50, [xml[i:i + 1000] for i in range(0, len(xml), 1000)])
    assert (extent.rows, extent.columns) == (2_001, 20_000)
    assert "lignes et 20 000 colonnes" in refused(hc.rezip(hc.valid_xlsx(), replace={hc.BENEF_XML: xml}),
                                                  max_cells=10_000_000)


def test_row_counts_across_chunk_boundaries():
    xml = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i) for i in range(1, 5_001))
    for size in (7, 64, 1000):
        scan = XlsxSheetScan()
        for i in range(0, len(xml), size):
            scan.feed(xml[i:i + size])
        assert scan.extent(50, []).rows == 5_000, size


def test_ods_trailing_empty_repeated_rows_count_for_nothing():
    """What LibreOffice writes after the data: empty rows repeated a million times."""
    content = hc.valid_ods()
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        xml = zf.read("content.xml")
    trailing = (b'<table:table-row table:number-rows-repeated="1048570"><table:table-cell '
                b'table:number-columns-repeated="1024"/></table:table-row>')
    xml = xml.replace(b"</table:table>", trailing + b"</table:table>")
    extents = dict(ods_extents(xml))
    assert extents["Beneficiaires"].rows == 3 and extents["Beneficiaires"].columns == 20
    assert check(hc.rezip(content, replace={"content.xml": xml})).valid


@pytest.mark.parametrize("technique", ["raw", "esc"])
def test_nul_in_cells_is_reported_not_crashing(technique):
    result = check(hc.control_characters(technique))
    bad = {(p.lettre, p.code) for p in result.errors}
    assert ("A", "TYPE_INVALIDE") in bad and ("G", "CODE_INCONNU") in bad
    shown = [p for p in result.errors if p.valeur and "\ufffd" in p.valeur]  # NUL, ESC shown as U+FFFD
    assert shown and all(("attendu" in p.message or "caractères" in p.message) for p in shown)


def test_report_values_carry_no_control_characters():
    """The CLI prints values found in the file: an ESC sequence there would drive the
    operator's terminal; a NUL cannot be stored in PostgreSQL text."""
    result = check(hc.control_characters("raw"))
    text = result.to_text()
    assert "\x1b" not in text and "\x00" not in text
    assert "P\ufffd\ufffd\ufffd[31m" in text  # still recognisable, position given
    assert all("\x00" not in (p.valeur or "") for p in result.errors)


@pytest.mark.parametrize("technique", ["raw", "esc", "del"])
def test_annotated_copy_with_control_characters(technique):
    data = hc.control_characters(technique)
    out = annotated_workbook(data, check(data))
    wb = openpyxl.load_workbook(io.BytesIO(out))
    report = wb["Rapport de validation"]
    values = [c.value for c in report["F"] if c.value]
    assert values and not any("\x00" in str(v) for v in values)
