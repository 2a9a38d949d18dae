"""Safe reading of an uploaded activity workbook (.xlsx or .ods), before any validation.

The upload comes from outside, so the container is inspected before a spreadsheet
library touches it. `read_workbook` raises `UnreadableWorkbook(message_fr)` (the CLI maps
it to exit 2) for:

- an empty file, or a file over `max_bytes` (default 20 MB);
- a file that is not a spreadsheet (PDF renamed, Word document, random bytes, .xlsb);
- an old binary `.xls` or a password-protected xlsx (both are OLE2/CFB containers);
- a truncated or corrupt zip (bad central directory, CRC error);
- a zip bomb: total decompressed size over `max_uncompressed` (default 200 MB, measured
  while actually inflating, not trusted from the headers), too many members, or a member
  with an extreme compression ratio (`max_ratio`, for members over 1 MB);
- macro-enabled content (`vbaProject.bin`, or Basic/Scripts in an .ods);
- a DOCTYPE or ENTITY declaration in any XML part (« billion laughs », XXE);
- a sheet with more than `max_rows` rows (default 500 000), or whose grid would exceed
  `max_cells` cells (default 12 000 000: far-apart cells, repeated .ods cells). Both are
  estimated from the XML BEFORE calamine reads the sheet (extent.py): calamine allocates
  the whole rectangle at once and a failed allocation aborts the process.

Choices:
- External links (`xl/externalLinks/`) are IGNORED WITH A WARNING (code LIAISON_EXTERNE):
  formulas are never evaluated and links never followed, only the values cached in the
  file are read, so the link is harmless; refusing would block many honest workbooks.
- Formulas are not evaluated. A formula cell without a cached value reads as empty; in
  .xlsx these cells are detected in the sheet XML and reported (code FORMULE_SANS_VALEUR),
  since the platform would otherwise import something else than what the operator sees.
  LibreOffice always stores cached values in .ods, so no detection is done there.
"""
from __future__ import annotations

import io
import os
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import python_calamine
from defusedxml import ElementTree as SafeET

from quality_framework.workbook.extent import Extent, XlsxSheetScan, ods_extents

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 20 * MB
DEFAULT_MAX_UNCOMPRESSED = 200 * MB
DEFAULT_MAX_ROWS = 500_000
DEFAULT_MAX_RATIO = 200
DEFAULT_MAX_CELLS = 12_000_000  # 500 000 rows × 24 columns; ≈ 125 bytes per cell once read
MAX_MEMBERS = 5_000
_RATIO_MIN_SIZE = 1 * MB  # small members may legitimately compress very well

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_CHUNK = 1 * MB
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_FORBIDDEN_XML = (b"<!DOCTYPE", b"<!ENTITY")
# A cell holding only a formula, with no or an empty cached value.
_FORMULA_NO_VALUE = re.compile(
    rb'<c\b([^>]*?)\br="([A-Z]{1,3})(\d+)"([^>]*)>\s*<f\b[^>]*?(?:/>|>[^<]*</f>)'
    rb"\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>"
)

Source = str | os.PathLike | bytes | bytearray | BinaryIO


class UnreadableWorkbook(Exception):
    """The file cannot be read at all; `message` is French and says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ReaderNotice:
    """Something the reader noticed that the validator reports (positions are 0-based)."""

    code: str
    message: str
    sheet: str | None = None
    row: int | None = None
    col: int | None = None


@dataclass
class RawWorkbook:
    """Cell grids as read: row 0 is spreadsheet row 1, column 0 is column A.

    Cells hold str ('' when empty), float, bool, datetime.date/datetime/time/timedelta."""

    format: str  # "xlsx" | "ods"
    sheets: dict[str, pd.DataFrame]
    notices: list[ReaderNotice] = field(default_factory=list)


def read_workbook(
    source: Source,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_uncompressed: int = DEFAULT_MAX_UNCOMPRESSED,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_ratio: float = DEFAULT_MAX_RATIO,
    max_cells: int = DEFAULT_MAX_CELLS,
) -> RawWorkbook:
    data = _load_bytes(source, max_bytes)
    _sniff(data)
    notices: list[ReaderNotice] = []
    fmt, formula_cells = _inspect_zip(data, max_uncompressed, max_ratio, notices, max_rows, max_cells)
    sheets = _read_grids(data, max_rows)
    for sheet, cells in formula_cells.items():
        for col_letter, row in cells:
            notices.append(ReaderNotice(
                "FORMULE_SANS_VALEUR",
                "Formule sans valeur calculée enregistrée : la cellule serait lue vide. "
                "Ouvrez le fichier dans votre tableur et enregistrez-le, ou remplacez la "
                "formule par sa valeur.",
                sheet, row - 1, _letter_index(col_letter),
            ))
    return RawWorkbook(fmt, sheets, notices)


def _load_bytes(source: Source, max_bytes: int) -> bytes:
    too_big = (f"Le fichier dépasse la taille maximale autorisée ({max_bytes / MB:g} Mo). "
               "Retirez les feuilles inutiles ou les images, puis déposez-le à nouveau.")
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise UnreadableWorkbook(f"Fichier introuvable : {path.name}.")
        if path.stat().st_size > max_bytes:  # refuse before reading it into memory
            raise UnreadableWorkbook(too_big)
        data = path.read_bytes()
    else:
        data = source.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnreadableWorkbook(too_big)
    if not data:
        raise UnreadableWorkbook("Le fichier est vide (0 octet). Un classeur .xlsx ou .ods est attendu.")
    return data


def _sniff(data: bytes) -> None:
    """Format from the content, never from the file name."""
    if data.startswith(OLE2_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
            raise UnreadableWorkbook(
                "Le classeur est protégé par un mot de passe (fichier chiffré) : il ne peut pas "
                "être lu. Enregistrez-le sans mot de passe au format .xlsx, puis déposez-le à nouveau.")
        raise UnreadableWorkbook(
            "Ancien format Excel .xls (ou autre document Office binaire) non accepté. "
            "Enregistrez le classeur au format .xlsx (ou .ods), puis déposez-le à nouveau.")
    if not data.startswith(b"PK\x03\x04"):
        what = "un PDF" if data.startswith(b"%PDF") else "pas un classeur"
        raise UnreadableWorkbook(
            f"Le fichier n'est pas un classeur .xlsx ou .ods (c'est {what}). "
            "Déposez le bilan au format .xlsx (ou .ods) établi à partir du modèle.")


def _corrupt(detail: str = "") -> UnreadableWorkbook:
    return UnreadableWorkbook(
        "Le fichier est corrompu ou incomplet (archive illisible"
        + (f" : {detail}" if detail else "")
        + "). Enregistrez-le à nouveau depuis votre tableur, puis déposez-le.")


def _inspect_zip(data: bytes, max_uncompressed: int, max_ratio: float, notices: list[ReaderNotice],
                 max_rows: int = DEFAULT_MAX_ROWS, max_cells: int = DEFAULT_MAX_CELLS,
                 ) -> tuple[str, dict[str, list[tuple[str, int]]]]:
    """Checks the container; returns the format ("xlsx" | "ods") and, for xlsx, the
    formula cells without a cached value per sheet, as (column letters, row number)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise _corrupt() from exc
    names = {i.filename for i in infos}
    bomb = UnreadableWorkbook(
        f"Le fichier décompressé serait trop volumineux (plus de {max_uncompressed / MB:g} Mo) "
        "ou anormalement compressé : il est refusé par sécurité.")
    if len(infos) > MAX_MEMBERS or sum(i.file_size for i in infos) > max_uncompressed:
        raise bomb
    for info in infos:
        if info.file_size > _RATIO_MIN_SIZE and info.file_size > max_ratio * max(info.compress_size, 1):
            raise bomb
        if info.flag_bits & 0x1:
            raise UnreadableWorkbook("Le classeur contient des parties chiffrées : il ne peut pas être lu.")

    try:
        is_ods = "mimetype" in names and zf.read("mimetype").strip() == ODS_MIMETYPE
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
        raise _corrupt("mimetype") from exc
    if not is_ods and "xl/workbook.xml" not in names:
        if "xl/workbook.bin" in names:
            raise UnreadableWorkbook("Le format binaire .xlsb n'est pas accepté : enregistrez le classeur au format .xlsx.")
        raise UnreadableWorkbook(
            "Le fichier est une archive zip mais pas un classeur .xlsx ou .ods "
            "(document texte ou présentation ?). Déposez le bilan au format .xlsx ou .ods.")
    lowered = [n.lower() for n in names]
    if any(n.endswith("vbaproject.bin") for n in lowered) or (
            is_ods and any(n.startswith(("basic/", "scripts/")) for n in lowered)):
        raise UnreadableWorkbook(
            "Le classeur contient des macros : il est refusé par sécurité. Enregistrez-le au "
            "format .xlsx (classeur sans macros), puis déposez-le à nouveau.")
    if any(n.startswith("xl/externallinks/") for n in lowered):
        notices.append(ReaderNotice(
            "LIAISON_EXTERNE",
            "Le classeur contient des liaisons vers d'autres fichiers : elles ne sont pas suivies "
            "et seules les valeurs enregistrées dans le classeur sont lues."))

    sheet_paths = {} if is_ods else _xlsx_sheet_paths(zf, names)
    total = 0
    formula_cells: dict[str, list[tuple[str, int]]] = {}
    scans: dict[str, tuple[zipfile.ZipInfo, XlsxSheetScan]] = {}
    ods_content: list[bytes] = []
    for info in infos:
        is_xml = info.filename.lower().endswith(_XML_SUFFIXES)
        sheet = sheet_paths.get(info.filename)
        scan = None
        if is_xml and not is_ods and (sheet is not None or info.filename.startswith("xl/worksheets/")):
            scan = XlsxSheetScan()
            scans[sheet if sheet is not None else info.filename] = (info, scan)
        keep = is_ods and info.filename == "content.xml"
        tail = b""
        try:
            with zf.open(info) as member:
                while chunk := member.read(_CHUNK):
                    total += len(chunk)
                    if total > max_uncompressed:  # measured, headers can lie
                        raise bomb
                    if not is_xml:
                        continue
                    if scan is not None:
                        scan.feed(chunk)
                    if keep:
                        ods_content.append(chunk)
                    buf = tail + chunk
                    if any(tok in buf for tok in _FORBIDDEN_XML):
                        raise UnreadableWorkbook(
                            "Le classeur contient des déclarations XML interdites (DOCTYPE/ENTITY) : "
                            "il est refusé par sécurité. Enregistrez-le à nouveau depuis votre tableur.")
                    if sheet is not None:
                        cut = buf.rfind(b"</c>") + 4 if b"</c>" in buf else 0
                        if buf.find(b"<f", 0, cut) != -1:  # no copy of the chunk
                            for m in _FORMULA_NO_VALUE.finditer(buf, 0, cut):
                                if b't="str"' not in m.group(1) + m.group(4):
                                    formula_cells.setdefault(sheet, []).append(
                                        (m.group(2).decode(), int(m.group(3))))
                        tail = buf[cut:][-64 * 1024:] if cut else buf[-64 * 1024:]
                    else:
                        tail = buf[-16:]  # enough overlap to catch a split « <!DOCTYPE »
        except UnreadableWorkbook:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
            raise _corrupt(info.filename) from exc
    try:
        if is_ods:
            extents = list(ods_extents(b"".join(ods_content)))
        else:
            extents = [(name, scan.extent(max(max_cells // max(max_rows, 1), 26), _member_chunks(zf, info)))
                       for name, (info, scan) in scans.items()]
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
        raise _corrupt() from exc
    for name, extent in extents:
        _check_extent(name, extent, max_rows, max_cells)
    return ("ods" if is_ods else "xlsx"), formula_cells


def _member_chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo):
    with zf.open(info) as member:
        while chunk := member.read(_CHUNK):
            yield chunk


def _too_many_rows(name: str, n_rows: int, max_rows: int) -> UnreadableWorkbook:
    return UnreadableWorkbook(
        f"La feuille « {name} » contient {_n(n_rows)} lignes, plus que le maximum "
        f"autorisé ({_n(max_rows)} lignes). Supprimez les lignes inutiles.")


def _n(number: int) -> str:
    """12345 -> « 12 345 » (French thousands separator)."""
    return f"{number:,}".replace(",", " ")


def _check_extent(name: str, extent: Extent, max_rows: int, max_cells: int) -> None:
    if extent.rows > max_rows:
        raise _too_many_rows(name, extent.rows, max_rows)
    if extent.cells > max_cells:
        raise UnreadableWorkbook(
            f"La feuille « {name} » s'étend sur {_n(extent.rows)} lignes et {_n(extent.columns)} colonnes, "
            f"soit plus que les {_n(max_cells)} cellules autorisées (cellules isolées loin du tableau, ou "
            "lignes et colonnes répétées). Supprimez les cellules en dehors du tableau, puis "
            "déposez le classeur à nouveau.")


def _xlsx_sheet_paths(zf: zipfile.ZipFile, names: set[str]) -> dict[str, str]:
    """Zip path of each worksheet XML -> sheet name (for positioning formula cells)."""
    try:
        for name in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
            head = zf.read(name)
            if any(tok in head for tok in _FORBIDDEN_XML):
                raise UnreadableWorkbook(
                    "Le classeur contient des déclarations XML interdites (DOCTYPE/ENTITY) : "
                    "il est refusé par sécurité.")
        wb = SafeET.fromstring(zf.read("xl/workbook.xml"))
        rels = SafeET.fromstring(zf.read("xl/_rels/workbook.xml.rels")) if "xl/_rels/workbook.xml.rels" in names else None
    except UnreadableWorkbook:
        raise
    except Exception:  # a broken workbook.xml: calamine will say so, positions are a bonus
        return {}
    if rels is None:
        return {}
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    out = {}
    for sheet in wb.iter():
        if sheet.tag.endswith("}sheet"):
            rid = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
            target = targets.get(rid)
            if target:
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
                out[path] = sheet.get("name", "")
    return out


def _read_grids(data: bytes, max_rows: int) -> dict[str, pd.DataFrame]:
    try:
        wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError as exc:
        raise UnreadableWorkbook("Le classeur est protégé par un mot de passe : il ne peut pas être lu.") from exc
    except Exception as exc:  # CalamineError, XmlError, ZipError…
        raise _corrupt() from exc
    sheets: dict[str, pd.DataFrame] = {}
    try:
        for meta in wb.sheets_metadata:
            if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                continue  # chart / dialog / macro sheets carry no data
            sheet = wb.get_sheet_by_name(meta.name)
            n_rows = sheet.end[0] + 1 if sheet.end else 0  # rows from row 1, as the grid will hold
            if n_rows > max_rows:
                raise _too_many_rows(meta.name, n_rows, max_rows)
            rows = sheet.to_python(skip_empty_area=False)
            del sheet  # calamine's own copy of the cells: freed before pandas makes a third
            sheets[meta.name] = pd.DataFrame(rows, dtype=object) if rows else pd.DataFrame(dtype=object)
            del rows
    except UnreadableWorkbook:
        raise
    except Exception as exc:
        raise _corrupt() from exc
    finally:
        wb.close()
    return sheets


def _letter_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out
