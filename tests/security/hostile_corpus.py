"""Hostile activity-workbook uploads, generated as bytes.

Written with zipfile, openpyxl and raw bytes only: it deliberately does NOT import the
workbook reader or validator, so a mistake there cannot shape the files that test it.
Every generator is parameterised by size, so tests use small instances and the bench
(bench/hostile_uploads.py) the realistic ones.

The valid base workbook is the one of organisation « op_a » of tests/conftest.py
(SIRET 99900000001001, region 53 Bretagne), for year 2025.

    CASES: name -> Case(build(**params) -> bytes, filename, description, params)
"""
from __future__ import annotations

import datetime as dt
import io
import random
import re
import string
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import openpyxl

SIRET = "99900000001001"
REGION = "53"
YEAR = 2025
MB = 1024 * 1024

HEADERS = [
    "id_parcours", "date_entree", "niveau_max", "sexe", "tranche_age", "rqth", "statut",
    "csp", "niveau_qualification", "taille_entreprise", "secteur_naf", "departement",
    "motif", "canal", "nb_entretiens", "duree_heures", "date_sortie", "type_sortie",
    "document_synthese", "satisfaction",
]
# Two literal rows, valid for 2025 in Bretagne (one closed path, one open).
ROWS = [
    ["P-0001", dt.date(2025, 1, 15), 3, "F", "26-44", "N", "CDI", "5", "4", "PE", "Q", "35",
     "PROJET", "PRESENTIEL", 4, 10, dt.date(2025, 6, 30), "PLAN_ACTION", "O", 5],
    ["P-0002", dt.date(2025, 9, 10), 2, "H", "45-54", "N", "CDD", "6", "3", "TPE", "C", "29",
     "POINT", "VISIO", 2, 3.5, None, None, "N", None],
]
IDENTIFICATION = [["champ", "valeur"], ["siret", SIRET], ["code_region", REGION],
                  ["annee", YEAR], ["contact_email", "bilan@operateur-test.fr"]]
MOYENS = [["champ", "valeur"], ["etp_conseillers", 2.5], ["nb_conseillers", 3],
          ["nb_sites_permanents", 1], ["nb_lieux_permanence", 2],
          ["heures_formation_conseillers", 40], ["heures_hors_temps_travail_hebdo", 4],
          ["delai_moyen_premier_rdv_jours", 6]]
FINANCES = [["poste", "montant_eur"], ["PERSONNEL", 100000], ["LOCAUX", 20000],
            ["FINANCEMENT_FRANCE_COMPETENCES", 110000]]
# openpyxl writes the sheets in this order: sheet1.xml = Identification, sheet2.xml = Beneficiaires.
BENEF_XML = "xl/worksheets/sheet2.xml"


# ------------------------------------------------------------------ building blocks

def valid_rows(n: int) -> list[list]:
    """n valid beneficiary rows (the two literal rows, with fresh identifiers)."""
    out = []
    for i in range(n):
        row = list(ROWS[i % 2])
        row[0] = f"P-{i + 1:06d}"
        out.append(row)
    return out


def valid_xlsx(rows: list[list] | None = None, *, headers: list[str] | None = None,
               extra_sheets: dict[str, list[list]] | None = None) -> bytes:
    """A valid workbook (with openpyxl), or one with the given beneficiary rows."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Identification"
    for r in IDENTIFICATION:
        ws.append(r)
    ben = wb.create_sheet("Beneficiaires")
    ben.append(headers or HEADERS)
    for r in (ROWS if rows is None else rows):
        ben.append(list(r))
    for title, content in (("Moyens", MOYENS), ("Finances", FINANCES), *(extra_sheets or {}).items()):
        sheet = wb.create_sheet(title)
        for r in content:
            sheet.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def rezip(data: bytes, *, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None,
          drop: Iterable[str] = ()) -> bytes:
    """Copy of a zip with members replaced, added or dropped (deflated)."""
    replace, add, drop = dict(replace or {}), dict(add or {}), set(drop)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            dst.writestr(info.filename, replace.pop(info.filename, None) or src.read(info.filename))
        for name, content in {**replace, **add}.items():
            dst.writestr(name, content)
    return out.getvalue()


def member(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read(name)


def _content_type(data: bytes, extra: str) -> bytes:
    types = member(data, "[Content_Types].xml")
    return types.replace(b"</Types>", extra.encode() + b"</Types>")


def cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal but well-formed OLE2 / Compound File Binary container (version 3, 512-byte
    sectors), each stream padded to at least 4096 bytes so no mini stream is needed.
    This is the container of old .xls files, of password-protected .xlsx files
    (EncryptionInfo + EncryptedPackage) and of vbaProject.bin."""
    sector = 512
    end, free, fat_sect = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    names = list(streams)
    assert len(names) <= 3, "one directory sector holds the root and three streams"
    bodies = [streams[n].ljust(max(4096, -(-len(streams[n]) // sector) * sector), b"\x00") for n in names]
    n_data = sum(len(b) // sector for b in bodies)
    fat = [fat_sect, end]  # sector 0: the FAT, sector 1: the directory
    starts, nxt = [], 2
    for body in bodies:
        count = len(body) // sector
        starts.append(nxt)
        fat += [nxt + i + 1 for i in range(count - 1)] + [end]
        nxt += count
    assert len(fat) <= sector // 4, "one FAT sector is enough for these sizes"
    fat += [free] * (sector // 4 - len(fat))

    def entry(name: str, kind: int, left: int, right: int, child: int, start: int, size: int) -> bytes:
        encoded = (name + "\x00").encode("utf-16-le")
        return (encoded.ljust(64, b"\x00") + struct.pack("<HBB", len(encoded), kind, 1)
                + struct.pack("<III", left, right, child) + b"\x00" * 16 + b"\x00" * 4
                + b"\x00" * 16 + struct.pack("<IQ", start, size))

    nostream = 0xFFFFFFFF
    directory = entry("Root Entry", 5, nostream, nostream, 1 if names else nostream, end, 0)
    for i, (name, start) in enumerate(zip(names, starts)):  # a right-leaning chain, all black
        right = i + 2 if i + 1 < len(names) else nostream
        directory += entry(name, 2, nostream, right, nostream, start, len(streams[name]))
    directory = directory.ljust(sector, b"\x00")
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\x00" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<I", 0) + struct.pack("<I", free) * 108)
    assert len(header) == sector
    assert n_data == nxt - 2
    return header + struct.pack(f"<{sector // 4}I", *fat) + directory + b"".join(bodies)


# ------------------------------------------------------------------ the hostile cases

def repeated_deflate(block: bytes, count: int) -> tuple[bytes, int, int]:
    """Raw deflate of `block` repeated `count` times, fast: one segment ended by a full
    flush (no reference to earlier data) is compressed once and repeated.
    Returns (deflated bytes, CRC-32, uncompressed size)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    end = comp.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    return segment * count + end, crc, len(block) * count


def zip_bomb(inflated_mb: int = 210, *, lying_headers: bool = False) -> bytes:
    """A valid workbook plus one member of zeros inflating to `inflated_mb` MB
    (deflate reaches about 1000:1 on zeros). With `lying_headers`, the local and central
    headers declare 1 KB uncompressed, so only measuring while inflating catches it."""
    deflated, crc, size = repeated_deflate(b"\x00" * MB, inflated_mb)
    return _append_raw_member(valid_xlsx(), "xl/media/zeros.bin", deflated, crc, 1024 if lying_headers else size)


def _append_raw_member(data: bytes, name: str, deflated: bytes, crc: int, size: int) -> bytes:
    """Adds an already deflated member, with the sizes and CRC we choose, to a zip."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        members = [(i, zf.open(i).read()) for i in infos]
    out = io.BytesIO()
    central = []
    for info, content in members:  # rewrite existing members as deflated, honest entries
        comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = comp.compress(content) + comp.flush()
        central.append(_write_local(out, info.filename.encode(), body, zlib.crc32(content), len(content)))
    central.append(_write_local(out, name.encode(), deflated, crc, size))
    start = out.tell()
    for entry in central:
        out.write(entry)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central),
                          out.tell() - start, start, 0))
    return out.getvalue()


def _write_local(out: io.BytesIO, name: bytes, body: bytes, crc: int, size: int) -> bytes:
    offset = out.tell()
    fields = struct.pack("<HHHHHIII", 20, 0, 8, 0, 0x21, crc & 0xFFFFFFFF, len(body), size & 0xFFFFFFFF)
    out.write(struct.pack("<I", 0x04034B50) + fields + struct.pack("<HH", len(name), 0) + name + body)
    return (struct.pack("<IH", 0x02014B50, 20) + fields
            + struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0, offset) + name)


def _with_doctype(xml: bytes, doctype: bytes) -> bytes:
    """Puts a DOCTYPE right after the XML declaration (or first, when there is none)."""
    if xml.startswith(b"<?xml"):
        end = xml.index(b"?>") + 2
        return xml[:end] + doctype + xml[end:]
    return doctype + xml


def _add_inline_row(sheet: bytes, text_xml: str, row: int = 50) -> bytes:
    """Appends a row whose column A holds `text_xml` (inline string, raw XML)."""
    cell = f'<row r="{row}"><c r="A{row}" t="inlineStr"><is><t>{text_xml}</t></is></c></row>'.encode()
    return sheet.replace(b"</sheetData>", cell + b"</sheetData>", 1)


def many_members(count: int = 6000) -> bytes:
    """A valid workbook plus `count` tiny members (a zip of many entries)."""
    return rezip(valid_xlsx(), add={f"xl/media/m{i}.bin": b"x" for i in range(count)})


def billion_laughs(levels: int = 9) -> bytes:
    """« Billion laughs »: nested entities in the Beneficiaires sheet XML (10**levels « lol »)."""
    base = valid_xlsx()
    sheet = member(base, BENEF_XML)
    ents = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, levels + 1))
    doctype = f"<!DOCTYPE worksheet [{ents}]>".encode()
    sheet = _with_doctype(sheet, doctype)
    return rezip(base, replace={BENEF_XML: _add_inline_row(sheet, f"&lol{levels};")})


def external_entity(target: str = "file:///etc/passwd") -> bytes:
    """XXE: an external entity in the Beneficiaires sheet XML."""
    base = valid_xlsx()
    sheet = member(base, BENEF_XML)
    doctype = f'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "{target}">]>'.encode()
    sheet = _with_doctype(sheet, doctype)
    return rezip(base, replace={BENEF_XML: _add_inline_row(sheet, "&xxe;")})


def external_links(target: str = "file:///\\\\serveur-pirate\\partage\\piege.xlsx") -> bytes:
    """A workbook with an external link part (and its relationship to a remote file)."""
    base = valid_xlsx()
    link = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            b'<externalBook r:id="rId1"><sheetNames><sheetName val="Feuil1"/></sheetNames>'
            b'<sheetDataSet><sheetData sheetId="0"><row r="1"><cell r="A1"><v>42</v></cell></row>'
            b"</sheetData></sheetDataSet></externalBook></externalLink>")
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            f'relationships/externalLinkPath" Target="{target}" TargetMode="External"/>'
            "</Relationships>").encode()
    wb_rels = member(base, "xl/_rels/workbook.xml.rels").replace(
        b"</Relationships>",
        b'<Relationship Id="rIdExt1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/externalLink" Target="externalLinks/externalLink1.xml"/></Relationships>')
    workbook = member(base, "xl/workbook.xml")
    workbook = re.sub(rb"(</sheets>)", rb'\1<externalReferences><externalReference r:id="rIdExt1"/>'
                      rb"</externalReferences>", workbook, count=1)
    if b"xmlns:r=" not in workbook:
        workbook = workbook.replace(b"<workbook ", b'<workbook xmlns:r="http://schemas.openxmlformats.org/'
                                    b'officeDocument/2006/relationships" ', 1)
    types = _content_type(base, '<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType='
                                '"application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/>')
    # A formula using the link, with its cached value (what the operator sees).
    sheet = member(base, BENEF_XML).replace(b"<v>4</v>", b"<f>[1]Feuil1!A1</f><v>4</v>", 1)
    return rezip(base, replace={"xl/workbook.xml": workbook, "xl/_rels/workbook.xml.rels": wb_rels,
                                "[Content_Types].xml": types, BENEF_XML: sheet},
                 add={"xl/externalLinks/externalLink1.xml": link,
                      "xl/externalLinks/_rels/externalLink1.xml.rels": rels})


def macro_enabled() -> bytes:
    """A macro-enabled workbook (.xlsm content: vbaProject.bin) renamed .xlsx."""
    base = valid_xlsx()
    vba = cfb({"PROJECT": b'ID="{00000000-0000-0000-0000-000000000000}"\r\nDocument=ThisWorkbook/&H00000000\r\n',
               "dir": b"\x01" * 64})
    types = _content_type(base, '<Override PartName="/xl/vbaProject.bin" '
                                'ContentType="application/vnd.ms-office.vbaProject"/>')
    types = types.replace(b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                          b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    rels = member(base, "xl/_rels/workbook.xml.rels").replace(
        b"</Relationships>",
        b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
        b'Target="vbaProject.bin"/></Relationships>')
    return rezip(base, replace={"[Content_Types].xml": types, "xl/_rels/workbook.xml.rels": rels},
                 add={"xl/vbaProject.bin": vba})


def truncated(fraction: float = 0.5) -> bytes:
    data = valid_xlsx()
    return data[: int(len(data) * fraction)]


def empty() -> bytes:
    return b""


def pdf_renamed() -> bytes:
    return (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
            b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")


def huge_dimension(ref: str = "A1:XFD1048576") -> bytes:
    """The Beneficiaires sheet declares the whole grid as its dimension, with few cells."""
    base = valid_xlsx()
    sheet = re.sub(rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>'.encode(),
                   member(base, BENEF_XML), count=1)
    assert ref.encode() in sheet
    return rezip(base, replace={BENEF_XML: sheet})


def far_cells(row: int = 400_000, col_letters: str = "XFD") -> bytes:
    """Two real cells far apart (A1 … XFD400000): a sparse sheet whose full grid would be
    row × 16 384 cells although the file holds almost nothing."""
    base = valid_xlsx()
    sheet = member(base, BENEF_XML)
    far = (f'<row r="{row}"><c r="{col_letters}{row}" t="inlineStr"><is><t>loin</t></is></c></row>').encode()
    sheet = sheet.replace(b"</sheetData>", far + b"</sheetData>", 1)
    sheet = re.sub(rb'<dimension ref="[^"]*"\s*/>', b"", sheet, count=1)
    return rezip(base, replace={BENEF_XML: sheet})


def big_cell(size: int = 1 * MB) -> bytes:
    """One cell (id_parcours of the first row) holding `size` characters of varied text
    (pseudo-random letters: it must not be caught as a zip bomb, the cell is the test)."""
    rows = valid_rows(2)
    rng = random.Random(size)
    rows[0][0] = "".join(rng.choices(string.ascii_letters + string.digits + " éàç", k=size))
    return valid_xlsx(rows)


def _sheet_xml_rows(n_rows: int, row: Callable[[int], str]) -> Iterator[bytes]:
    yield (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
    batch = []
    for r in range(1, n_rows + 1):
        batch.append(row(r))
        if len(batch) == 10_000:
            yield "".join(batch).encode()
            batch = []
    yield "".join(batch).encode() + b"</sheetData></worksheet>"


def many_rows(n_rows: int = 1_000_000) -> bytes:
    """A Beneficiaires sheet of `n_rows` rows (header + numbered paths), streamed as text
    and deflated: tens of MB of XML, a few MB zipped."""
    base = valid_xlsx()
    header = "".join(f'<c r="{_col(i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(HEADERS))

    def row(r: int) -> str:
        if r == 1:
            return f'<row r="1">{header}</row>'
        return (f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>P{r}</t></is></c>'
                f'<c r="C{r}"><v>2</v></c></row>')

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename == BENEF_XML:
                target = zipfile.ZipInfo(BENEF_XML, date_time=info.date_time)
                target.compress_type = zipfile.ZIP_DEFLATED
                with dst.open(target, "w", force_zip64=True) as w:
                    for chunk in _sheet_xml_rows(n_rows, row):
                        w.write(chunk)
            else:
                dst.writestr(info.filename, src.read(info.filename))
    return out.getvalue()


def encrypted_xlsx() -> bytes:
    """What Excel writes for a password-protected .xlsx: an OLE2 container with
    EncryptionInfo and EncryptedPackage streams (contents random-looking here)."""
    info = struct.pack("<HHI", 4, 4, 0x40) + b"<?xml version=\"1.0\"?><encryption/>"
    package = struct.pack("<Q", 8000) + bytes((i * 131 + 7) % 256 for i in range(8192))
    return cfb({"EncryptionInfo": info, "EncryptedPackage": package})


def old_xls() -> bytes:
    """An old binary .xls: OLE2 container with a BIFF8 « Workbook » stream (BOF … EOF)."""
    bof = struct.pack("<HHHHHHII", 0x0809, 16, 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0x06)
    eof = struct.pack("<HH", 0x000A, 0)
    return cfb({"Workbook": bof + eof})


ODS_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"')


def _ods_table(name: str, rows: list[list], ref: str = "") -> str:
    cells = "".join(
        "<table:table-row>" + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{ref if v == "P-0001" and ref else v}'
            "</text:p></table:table-cell>" for v in r) + "</table:table-row>" for r in rows)
    return f'<table:table table:name="{name}">{cells}</table:table>'


def _ods(body: str, doctype: str = "") -> bytes:
    """A minimal .ods (mimetype first and stored, manifest, content.xml) around `body`."""
    content = (f'<?xml version="1.0" encoding="UTF-8"?>{doctype}'
               f"<office:document-content {ODS_NS}><office:body><office:spreadsheet>{body}"
               "</office:spreadsheet></office:body></office:document-content>").encode()
    manifest = (b'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                b'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                b'<manifest:file-entry manifest:full-path="/" manifest:media-type='
                b'"application/vnd.oasis.opendocument.spreadsheet"/>'
                b'<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                b"</manifest:manifest>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        zf.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _ods_tables(ben_extra: str = "", ref: str = "") -> str:
    ben = [HEADERS] + [[("" if v is None else str(v)) for v in r] for r in ROWS]
    tables = [_ods_table(n, r, ref) for n, r in (("Identification", IDENTIFICATION), ("Beneficiaires", ben),
                                                  ("Moyens", MOYENS), ("Finances", FINANCES))]
    tables[1] = tables[1].replace("</table:table>", ben_extra + "</table:table>")
    return "".join(tables)


def valid_ods() -> bytes:
    return _ods(_ods_tables())


def ods_with_entity(kind: str = "laughs") -> bytes:
    """A LibreOffice .ods whose content.xml declares entities (laughs or external)."""
    if kind == "laughs":
        decl = ('<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">')
        ref = "&c;"
    else:
        decl, ref = '<!ENTITY xxe SYSTEM "file:///etc/passwd">', "&xxe;"
    return _ods(_ods_tables(ref=ref), f"<!DOCTYPE office:document-content [{decl}]>")


def ods_repeated(rows: int = 1_000_000, cols: int = 16_384) -> bytes:
    """An .ods of a few hundred bytes whose Beneficiaires sheet repeats one non-empty cell
    `cols` times in a row, and that row `rows` times (table:number-*-repeated)."""
    row = (f'<table:table-row table:number-rows-repeated="{rows}"><table:table-cell '
           f'table:number-columns-repeated="{cols}" office:value-type="string"><text:p>x</text:p>'
           "</table:table-cell></table:table-row>")
    return _ods(_ods_tables(ben_extra=row))


def mimetype_bomb(inflated_mb: int = 1024) -> bytes:
    """A zip whose `mimetype` member (46 bytes in an .ods, read whole to recognise the
    format) inflates to `inflated_mb` MB of spaces; honest headers, about 1 KB per MB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("content.xml", b"<office:document-content/>")
    deflated, crc, size = repeated_deflate(b" " * MB, inflated_mb)
    return _append_raw_member(out.getvalue(), "mimetype", deflated, crc, size)


def corrupt_mimetype() -> bytes:
    """An .ods whose deflated `mimetype` stream is damaged (zlib error when read)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", b"application/vnd.oasis.opendocument.spreadsheet" * 50)
        zf.writestr("content.xml", b"<office:document-content/>")
    data = bytearray(out.getvalue())
    data[40:60] = b"\xff" * 20  # inside the first member's compressed bytes
    return bytes(data)


def unsupported_method(method: int = 99) -> bytes:
    """A workbook whose members declare compression method 99 (AES), unknown to zipfile."""
    data = bytearray(valid_xlsx())
    for sig, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = 0
        while (i := data.find(sig, start)) != -1:
            data[i + offset:i + offset + 2] = struct.pack("<H", method)
            start = i + 4
    return bytes(data)


def formula_without_value() -> bytes:
    """nb_entretiens (column O) of row 2 is a formula with no cached value, as written
    by a generator that does not compute formulas (openpyxl does exactly that)."""
    rows = valid_rows(2)
    rows[0][14] = "=1+1"
    return valid_xlsx(rows)


def control_characters(technique: str = "all") -> bytes:
    """NUL and control characters in cells. openpyxl refuses to write them, so the sheet
    XML is edited: raw bytes (not well-formed XML), numeric character references
    (forbidden in XML 1.0 for NUL) and Excel's _xHHHH_ escapes (legal, decoded by readers)."""
    rows = valid_rows(4)
    markers = ["MARK-RAW", "MARK-REF", "MARK-ESC", "MARK-DEL"]
    for row, mark in zip(rows, markers):
        row[0] = mark
        row[6] = f"{mark}-statut"
    base = valid_xlsx(rows)
    sheet = member(base, BENEF_XML)
    shared = member(base, "xl/sharedStrings.xml") if b"sharedStrings" in member(base, "[Content_Types].xml") else None
    subs = {
        "raw": [(b"MARK-RAW", b"P\x00\x01\x1b[31m"), (b"MARK-RAW-statut", b"CDI\x00")],
        "ref": [(b"MARK-REF", b"P&#0;&#1;&#x1B;"), (b"MARK-REF-statut", b"CDI&#11;")],
        "esc": [(b"MARK-ESC", b"P_x0000__x0001__x001B_"), (b"MARK-ESC-statut", b"CDI_x0000_")],
        "del": [(b"MARK-DEL", b"P\x7f\xc2\x85\xe2\x80\xae"), (b"MARK-DEL-statut", b"\xe2\x80\x8bCDI")],
    }
    chosen = subs if technique == "all" else {technique: subs[technique]}
    for pairs in chosen.values():
        for old, new in sorted(pairs, key=lambda p: -len(p[0])):  # « -statut » first
            sheet = sheet.replace(old, new)
            if shared is not None:
                shared = shared.replace(old, new)
    replace = {BENEF_XML: sheet}
    if shared is not None:
        replace["xl/sharedStrings.xml"] = shared
    return rezip(base, replace=replace)


def weird_sheet_names(length: int = 300) -> bytes:
    """An extra sheet with an emoji name of `length` characters (Excel caps at 31), and
    the Beneficiaires sheet renamed with accents, case and spaces (« BÉNÉFICIAIRES »),
    which the contract says must still be recognised."""
    long_name = ("📊🚀é" * length)[:length]
    base = valid_xlsx(extra_sheets={"Notes": [["remarque"], ["rien à signaler"]]})
    workbook = member(base, "xl/workbook.xml")
    workbook = workbook.replace(b'name="Notes"', f'name="{long_name}"'.encode(), 1)
    workbook = workbook.replace(b'name="Beneficiaires"', 'name=" BÉNÉFICIAIRES "'.encode(), 1)
    return rezip(base, replace={"xl/workbook.xml": workbook})


def all_columns(n_cols: int = 16_384, n_rows: int = 3) -> bytes:
    """The Beneficiaires sheet is n_cols wide (up to column XFD): the contract columns,
    then unknown headers « extra_i » to the last column, with values on a few rows."""
    headers = HEADERS + [f"extra_{i}" for i in range(len(HEADERS), n_cols)]
    rows = [r + [i] * (n_cols - len(HEADERS)) for i, r in enumerate(valid_rows(n_rows))]
    wb = openpyxl.Workbook(write_only=True)
    for title, content in (("Identification", IDENTIFICATION), ("Beneficiaires", [headers] + rows),
                           ("Moyens", MOYENS), ("Finances", FINANCES)):
        ws = wb.create_sheet(title)
        for r in content:
            ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _col(index: int) -> str:
    out, index = "", index + 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


# ------------------------------------------------------------------ catalogue

@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[..., bytes]
    filename: str
    description: str  # French, for the figures table
    bench: dict = field(default_factory=dict)  # realistic size (bench)
    small: dict = field(default_factory=dict)  # fast size (unit tests)

    def data(self, size: str = "small") -> bytes:
        return self.build(**(self.bench if size == "bench" else self.small))


CASES: dict[str, Case] = {c.name: c for c in [
    Case("zip_bomb", zip_bomb, "bilan.xlsx", "Bombe zip : membre de zéros (≈1000:1) gonflant à 210 Mo",
         {"inflated_mb": 210}, {"inflated_mb": 210}),
    Case("zip_bomb_lying", lambda **k: zip_bomb(lying_headers=True, **k), "bilan.xlsx",
         "Bombe zip dont les en-têtes annoncent 1 Ko (mesure réelle à la décompression)",
         {"inflated_mb": 210}, {"inflated_mb": 210}),
    Case("many_members", many_members, "bilan.xlsx", "Archive de 6 000 membres",
         {"count": 6000}, {"count": 6000}),
    Case("billion_laughs", billion_laughs, "bilan.xlsx",
         "« Billion laughs » : entités XML imbriquées dans la feuille Beneficiaires", {"levels": 9}, {"levels": 9}),
    Case("xxe", external_entity, "bilan.xlsx", "Entité externe XML (XXE) vers /etc/passwd"),
    Case("external_links", external_links, "bilan.xlsx",
         "Liaison externe (xl/externalLinks) vers un partage réseau"),
    Case("macro", macro_enabled, "bilan.xlsx", "Classeur à macros (vbaProject.bin) renommé .xlsx"),
    Case("truncated", truncated, "bilan.xlsx", "Archive zip tronquée de moitié"),
    Case("empty", empty, "bilan.xlsx", "Fichier vide (0 octet)"),
    Case("pdf", pdf_renamed, "bilan.xlsx", "PDF renommé .xlsx"),
    Case("huge_dimension", huge_dimension, "bilan.xlsx",
         "Feuille déclarant la dimension A1:XFD1048576 avec peu de cellules"),
    Case("far_cells", far_cells, "bilan.xlsx",
         "Deux cellules éloignées (A1 et XFD400000) : grille creuse de 6,5 milliards de cases",
         {"row": 400_000}, {"row": 400_000}),
    Case("big_cell", big_cell, "bilan.xlsx", "Cellule de 1 Mo de texte", {"size": MB}, {"size": MB}),
    Case("million_rows", many_rows, "bilan.xlsx", "Feuille Beneficiaires de 1 000 000 lignes",
         {"n_rows": 1_000_000}, {"n_rows": 1_000_000}),
    Case("encrypted", encrypted_xlsx, "bilan.xlsx", "Classeur protégé par mot de passe (OLE2 chiffré)"),
    Case("old_xls", old_xls, "bilan.xls", "Ancien format .xls (OLE2, BIFF8)"),
    Case("ods_entity", ods_with_entity, "bilan.ods", "Fichier .ods avec déclaration d'entités XML"),
    Case("ods_xxe", lambda: ods_with_entity("xxe"), "bilan.ods", "Fichier .ods avec entité externe (XXE)"),
    Case("ods_repeated", ods_repeated, "bilan.ods",
         "Fichier .ods : une cellule répétée 16 384 colonnes × 1 000 000 lignes (number-*-repeated)",
         {"rows": 1_000_000, "cols": 16_384}, {"rows": 1_000_000, "cols": 16_384}),
    Case("ods_repeated_dense", ods_repeated, "bilan.ods",
         "Fichier .ods : une cellule répétée 1 000 colonnes × 20 000 lignes (20 millions de cases)",
         {"rows": 20_000, "cols": 1_000}, {"rows": 20_000, "cols": 1_000}),
    Case("mimetype_bomb", mimetype_bomb, "bilan.ods",
         "Fichier .ods dont le membre « mimetype » se décompresse en 1 Go d'espaces",
         {"inflated_mb": 1024}, {"inflated_mb": 1024}),
    Case("corrupt_mimetype", corrupt_mimetype, "bilan.ods", "Fichier .ods au membre « mimetype » endommagé"),
    Case("unsupported_method", unsupported_method, "bilan.xlsx",
         "Classeur dont les membres annoncent la compression 99 (AES), inconnue"),
    Case("formula_no_value", formula_without_value, "bilan.xlsx", "Formule sans valeur calculée"),
    Case("control_raw", lambda: control_characters("raw"), "bilan.xlsx",
         "Octets NUL et de contrôle bruts dans le XML des cellules"),
    Case("control_ref", lambda: control_characters("ref"), "bilan.xlsx",
         "Références de caractère &#0; &#1; dans les cellules"),
    Case("control_escape", lambda: control_characters("esc"), "bilan.xlsx",
         "Échappements Excel _x0000_ (NUL) dans les cellules"),
    Case("control_unicode", lambda: control_characters("del"), "bilan.xlsx",
         "DEL, NEL, caractères bidirectionnels et espaces de largeur nulle dans les cellules"),
    Case("sheet_names", weird_sheet_names, "bilan.xlsx",
         "Feuille de 300 caractères en emoji ; « BÉNÉFICIAIRES » en capitales accentuées"),
    Case("all_columns", all_columns, "bilan.xlsx", "Feuille de 16 384 colonnes (jusqu'à XFD)",
         {"n_cols": 16_384, "n_rows": 3}, {"n_cols": 16_384, "n_rows": 3}),
]}
