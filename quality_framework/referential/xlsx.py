"""Export of a referential to xlsx and import of an edited workbook as a new version.

Formula injection: a text cell beginning with = + - @ (or tab / carriage return) could
be taken for a formula by a spreadsheet — openpyxl itself writes any string starting
with « = » as a formula. Such texts are written with a leading apostrophe (the OWASP
« CSV injection » advice, which also survives a save as CSV) and the cell is marked
quotePrefix so that editing it in Excel keeps it as text. A text that already begins
with an apostrophe gets a second one, so the import can strip exactly one apostrophe
before = + - @ TAB CR or « ' » and give back the original text: the round trip is exact.
"""
from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException

from .model import Referential, ReferentialError
from .validation import Labels, build_referential, parse_date, validate_referential

NODES_SHEET = "Référentiel"
VERSION_SHEET = "Version"
# (field, header, width)
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("id", "id", 8),
    ("parent", "parent", 9),
    ("title", "titre", 45),
    ("requirement", "exigence", 70),
    ("evidence", "preuves attendues", 60),
    ("weight", "poids", 8),
    ("links", "indicateurs liés", 40),
)
HEADER = {key: header for key, header, _ in COLUMNS}
META_ROWS: tuple[tuple[str, str], ...] = (
    ("version", "version"),
    ("label", "libellé"),
    ("published_on", "date de publication"),
    ("source", "source"),
    ("description", "description"),
)
META_HEADER = dict(META_ROWS)

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="000091")  # DSFR « bleu France »
_AXIS_FILL = PatternFill("solid", fgColor="E3E3FD")
_WRAP = Alignment(wrap_text=True, vertical="top")
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ROWS = 1000


def neutralise(text: str) -> str:
    """Text made safe for a spreadsheet cell (see module docstring)."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if text.startswith(_TRIGGERS + ("'",)):
        return "'" + text
    return text


def restore(text: str) -> str:
    """Inverse of `neutralise` for a cell read back."""
    if len(text) >= 2 and text[0] == "'" and text[1] in _TRIGGERS + ("'",):
        return text[1:]
    return text


def _write(cell: Any, value: Any) -> None:
    if isinstance(value, str):
        safe = neutralise(value)
        cell.value = safe
        if safe != value:
            cell.quotePrefix = True
    else:
        cell.value = value


def _style_header(ws: Any, widths: list[int]) -> None:
    for index, width in enumerate(widths, start=1):
        cell = ws.cell(row=1, column=index)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center")
        ws.column_dimensions[cell.column_letter].width = width
    ws.freeze_panes = "A2"


def export_referential_xlsx(ref: Referential) -> bytes:
    """Workbook with a « Référentiel » sheet (one row per node, axes then their
    indicators) and a « Version » sheet (metadata), as bytes."""
    wb = Workbook()
    ws = wb.active
    ws.title = NODES_SHEET
    ws.append([header for _, header, _ in COLUMNS])
    for node in ref.nodes:
        values = [
            node.id,
            node.parent_id or "",
            node.title,
            node.requirement,
            node.evidence,
            node.weight,
            ", ".join(node.links),
        ]
        row = ws.max_row + 1
        for column, value in enumerate(values, start=1):
            cell = ws.cell(row=row, column=column)
            _write(cell, value)
            cell.alignment = _WRAP
            if node.parent_id is None:
                cell.font = Font(bold=True)
                cell.fill = _AXIS_FILL
    _style_header(ws, [width for _, _, width in COLUMNS])
    ws.auto_filter.ref = ws.dimensions

    meta = wb.create_sheet(VERSION_SHEET)
    meta.append(["champ", "valeur"])
    values = {
        "version": ref.version,
        "label": ref.label,
        "published_on": ref.published_on,
        "source": ref.source,
        "description": ref.description,
    }
    for row, (key, header) in enumerate(META_ROWS, start=2):
        meta.cell(row=row, column=1, value=header)
        cell = meta.cell(row=row, column=2)
        _write(cell, values[key])
        cell.alignment = _WRAP
        if key == "published_on":
            cell.number_format = "yyyy-mm-dd"
    _style_header(meta, [22, 100])

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _norm(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value or "")).strip().lower()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = restore(str(value)).strip()
    return text or None


def _weight(value: Any) -> Any:
    if value is None or isinstance(value, (int, float)):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        # French decimal comma accepted: « 1,5 ».
        return float(restore(text).replace(",", ".").replace("\u00a0", ""))
    except ValueError:
        return restore(text)


def _links(value: Any) -> list[str]:
    text = _text(value) or ""
    return [part.strip() for part in re.split(r"[,;\n]", text) if part.strip()]


def _open(data: bytes) -> Any:
    if len(data) > MAX_UPLOAD_BYTES:
        raise ReferentialError([f"fichier trop volumineux ({len(data) // 1024} Ko, 5 Mo au plus)"])
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise ReferentialError(["fichier illisible : ce n'est pas un classeur xlsx valide"]) from None


def _read_nodes(ws: Any) -> tuple[list[dict[str, Any]], list[int], list[str]]:
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None) or ()
    position = {_norm(h): i for i, h in enumerate(header) if _norm(h)}
    missing = [h for _, h, _ in COLUMNS if h not in position]
    if missing:
        listed = ", ".join(f"« {h} »" for h in missing)
        expected = ", ".join(h for _, h, _ in COLUMNS)
        return [], [], [
            f"onglet « {NODES_SHEET} », ligne 1 : colonne(s) {listed} absente(s) "
            f"(en-têtes attendus : {expected})"
        ]
    nodes: list[dict[str, Any]] = []
    line_numbers: list[int] = []
    for line, values in enumerate(rows, start=2):
        cells = {key: (values[position[h]] if position[h] < len(values) else None) for key, h, _ in COLUMNS}
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells.values()):
            continue  # blank rows are allowed anywhere
        if len(nodes) >= MAX_ROWS:
            return [], [], [f"onglet « {NODES_SHEET} » : trop de lignes ({MAX_ROWS} au plus)"]
        raw: dict[str, Any] = {
            "id": _text(cells["id"]),
            "title": _text(cells["title"]),
            "requirement": _text(cells["requirement"]),
            "evidence": _text(cells["evidence"]),
            "links": _links(cells["links"]),
        }
        parent = _text(cells["parent"])
        if parent is not None:
            raw["parent"] = parent
        weight = _weight(cells["weight"])
        if weight is not None:
            raw["weight"] = weight
        nodes.append(raw)
        line_numbers.append(line)
    return nodes, line_numbers, []


def _read_meta(ws: Any) -> dict[str, Any]:
    by_header = {_norm(h): key for key, h in META_ROWS}
    by_header["label"] = "label"
    by_header["libelle"] = "label"
    meta: dict[str, Any] = {}
    for values in ws.iter_rows(min_row=2, values_only=True):
        if not values or _norm(values[0]) not in by_header:
            continue
        key = by_header[_norm(values[0])]
        value = values[1] if len(values) > 1 else None
        if key == "published_on":
            meta[key] = parse_date(value) or _text(value)
        elif key != "version":
            meta[key] = _text(value)
    return meta


def import_referential_xlsx(data: bytes, new_version: int) -> Referential:
    """Read an edited export as version `new_version` (the « version » cell of the
    Version sheet is ignored: the caller decides the number). Validated with the
    same rules as YAML; ReferentialError names the offending row: « ligne 7 : … »."""
    if isinstance(new_version, bool) or not isinstance(new_version, int) or new_version < 1:
        raise ReferentialError([f"numéro de nouvelle version invalide : {new_version!r}"])
    wb = _open(data)
    try:
        missing = [s for s in (NODES_SHEET, VERSION_SHEET) if s not in wb.sheetnames]
        if missing:
            raise ReferentialError([f"onglet « {s} » absent du classeur" for s in missing])
        nodes, line_numbers, errors = _read_nodes(wb[NODES_SHEET])
        if errors:
            raise ReferentialError(errors)
        meta = _read_meta(wb[VERSION_SHEET])
    finally:
        wb.close()

    content = {
        "version": new_version,
        "label": meta.get("label"),
        "published_on": meta.get("published_on"),
        "source": meta.get("source"),
        "description": meta.get("description"),
        "nodes": nodes,
    }
    labels = Labels(
        position=lambda i: f"ligne {line_numbers[i]}",
        field=lambda key: f"« {HEADER[key]} »",
        meta=lambda key: f"« {META_HEADER.get(key, key)} » (onglet « {VERSION_SHEET} »)",
        by_id=False,
    )
    problems = validate_referential(content, labels)
    if problems:
        raise ReferentialError(problems)
    return build_referential(content)
