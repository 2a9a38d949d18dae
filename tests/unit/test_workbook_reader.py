"""Safe reading of uploaded workbooks: every « cannot be read at all » case, and the
reader notices (external links) that become warnings."""
from __future__ import annotations

import io
import zipfile

import pytest

from quality_framework.workbook import UnreadableWorkbook, read_workbook, validate_workbook
from tests.unit.test_workbook_helpers import REGION, SIRET, YEAR, ben_row, rezip, sheets, write_ods, xlsx_bytes

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def good_bytes() -> bytes:
    return xlsx_bytes(sheets())


def refused(source, **kwargs) -> str:
    with pytest.raises(UnreadableWorkbook) as exc:
        read_workbook(source, **kwargs)
    message = exc.value.message
    assert message and message == str(exc.value)
    return message


def test_reads_xlsx_from_bytes_path_and_file(tmp_path):
    data = good_bytes()
    path = tmp_path / "bilan.xlsx"
    path.write_bytes(data)
    for source in (data, path, str(path), io.BytesIO(data)):
        raw = read_workbook(source)
        assert set(raw.sheets) == {"Identification", "Beneficiaires", "Moyens", "Finances"}
        assert raw.sheets["Beneficiaires"].iloc[0, 0] == "id_parcours"
        assert raw.notices == []


def test_reads_ods_detected_by_content_even_when_named_xlsx(tmp_path):
    path = write_ods(tmp_path / "bilan.ods", sheets())
    renamed = tmp_path / "bilan.xlsx"
    renamed.write_bytes(path.read_bytes())
    raw = read_workbook(renamed)
    assert raw.format == "ods" and "Beneficiaires" in raw.sheets


def test_empty_file(tmp_path):
    path = tmp_path / "vide.xlsx"
    path.write_bytes(b"")
    assert "vide" in refused(path)


def test_pdf_renamed():
    assert "PDF" in refused(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")


def test_random_bytes():
    assert "pas un classeur" in refused(b"id_parcours;date_entree\nP1;2024-01-01\n")


def test_old_xls():
    assert ".xls" in refused(OLE + b"\x00" * 2048)


def test_encrypted_xlsx():
    data = OLE + b"\x00" * 512 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 512
    assert "mot de passe" in refused(data)


def test_truncated_zip():
    data = good_bytes()
    assert "corrompu" in refused(data[: len(data) // 2])


def test_corrupt_member():
    data = bytearray(good_bytes())
    start = data.find(b"PK\x03\x04", 100)
    data[start + 60:start + 120] = b"\x00" * 60  # damage a compressed stream
    assert "corrompu" in refused(bytes(data))


def test_zip_that_inflates_past_the_bound():
    data = rezip(good_bytes(), add={"xl/media/padding.xml": b"<a>" + b" " * 300_000 + b"</a>"})
    message = refused(data, max_uncompressed=200_000)
    assert "trop volumineux" in message


def test_extreme_compression_ratio():
    data = rezip(good_bytes(), add={"xl/media/bomb.bin": b"\x00" * 3_000_000})
    assert "anormalement compressé" in refused(data, max_ratio=100)


def test_file_over_size_bound(tmp_path):
    path = tmp_path / "gros.xlsx"
    path.write_bytes(good_bytes())
    assert "taille maximale" in refused(path, max_bytes=1000)
    assert "taille maximale" in refused(good_bytes(), max_bytes=1000)


def test_doctype_entity_in_sheet_xml():
    data = good_bytes()
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet2.xml")
    evil = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            + sheet.split(b"?>", 1)[-1] if sheet.startswith(b"<?xml") else
            b'<!DOCTYPE lolz [<!ENTITY lol "lol">]>' + sheet)
    assert "DOCTYPE" in refused(rezip(data, replace={"xl/worksheets/sheet2.xml": evil}))


def test_macros_are_refused():
    data = rezip(good_bytes(), add={"xl/vbaProject.bin": b"\x00macro"})
    assert "macros" in refused(data)


def test_not_a_spreadsheet_zip():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    assert "pas un classeur" in refused(out.getvalue())


def test_too_many_rows():
    rows = [ben_row(i) for i in range(1, 30)]
    message = refused(xlsx_bytes(sheets(rows)), max_rows=20)
    assert "Beneficiaires" in message and "20" in message
    assert read_workbook(xlsx_bytes(sheets(rows)), max_rows=30)


def test_validate_propagates_unreadable():
    with pytest.raises(UnreadableWorkbook):
        validate_workbook(b"", expected_siret=SIRET, allowed_regions={REGION}, year=YEAR)


def test_external_links_are_ignored_with_a_warning():
    data = rezip(good_bytes(), add={"xl/externalLinks/externalLink1.xml": b"<externalLink/>"})
    raw = read_workbook(data)
    assert [n.code for n in raw.notices] == ["LIAISON_EXTERNE"]
    result = validate_workbook(data, expected_siret=SIRET, allowed_regions={REGION}, year=YEAR)
    assert result.errors == []
    assert [w.code for w in result.warnings] == ["LIAISON_EXTERNE"]
