"""Property-based tests of the workbook validator (hypothesis).

- Any cell values (text with unicode and control characters, numbers with nan/inf/huge,
  dates, booleans, empty) in every Beneficiaires column of an otherwise valid workbook,
  written to disk with openpyxl: the validator returns a report or raises
  UnreadableWorkbook, never anything else; every problem has a French message, and the
  problems of that row name row ≥ 2 and a column letter.
- A valid workbook stays valid, with the same data, after an openpyxl load/save round trip.
- Headers permuted, in any case, with accents and spaces: the same result as canonical.

Workbooks come from tests/security/hostile_corpus.py (openpyxl, not the validator code).
"""
from __future__ import annotations

import datetime as dt
import io
import os
import re
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from quality_framework.workbook import UnreadableWorkbook, validate_workbook
from tests.security import hostile_corpus as hc

FRENCH = re.compile(r"\b(le|la|les|des|du|est|une?|au|aux|sans|par|attendue?s?|valeur|cellule|colonnes?|"
                    r"feuille|code|ligne)\b|[éèêàç]", re.I)
LETTER = re.compile(r"^[A-Z]{1,3}$")
# SECURITY_EXAMPLES=500 for a longer hunt; the default keeps the file around 20 s of CPU.
SETTINGS = settings(max_examples=int(os.environ.get("SECURITY_EXAMPLES", "30")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _escape_illegal(text: str) -> str:
    """openpyxl refuses control characters; Excel's own escape _xHHHH_ carries them, and
    readers decode it back to the character."""
    return ILLEGAL_CHARACTERS_RE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30).map(_escape_illegal)
cell_values = st.one_of(
    st.none(),
    texts,
    st.sampled_from(["", " ", "P-1", "35", "2025-02-30", "31/12/2025", "1 234,5", "1.234,5", "=1+1",
                     "nom@exemple.fr", "1 85 05 78 006 084 36", "\u00a0CDI\u00a0", "ﬁ", "ß", "İ"]),
    st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 31)),
    st.booleans(),
)


def validate(source):
    return validate_workbook(source, expected_siret=hc.SIRET, allowed_regions={hc.REGION}, year=hc.YEAR)


def on_disk(data: bytes, suffix: str = ".xlsx") -> Path:
    handle = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)
    handle.write(data)
    handle.close()
    return Path(handle.name)


def check_on_disk(data: bytes):
    path = on_disk(data)
    try:
        return validate(path)
    finally:
        path.unlink()


@SETTINGS
@given(row=st.lists(cell_values, min_size=len(hc.HEADERS), max_size=len(hc.HEADERS)))
def test_any_cell_values_give_a_report_or_a_refusal(row):
    rows = hc.valid_rows(2) + [row]
    try:
        data = hc.valid_xlsx(rows)
    except (ValueError, TypeError, OverflowError):
        return  # openpyxl itself cannot write this value (e.g. a huge int in a date cell)
    try:
        result = check_on_disk(data)
    except UnreadableWorkbook as exc:
        assert FRENCH.search(exc.message), exc.message
        return
    for p in result.errors + result.warnings:
        assert p.message and FRENCH.search(p.message), p
        assert p.severite in ("erreur", "avertissement")
        if p.feuille == "Beneficiaires" and p.code != "TAUX_REPONSE_FAIBLE":
            assert p.ligne is not None and p.ligne >= 2, p
            assert p.lettre and LETTER.match(p.lettre), p
    assert all(p.ligne == 4 for p in result.errors if p.feuille == "Beneficiaires"), result.errors
    assert result.lines["Beneficiaires"] in (2, 3)  # a row of empty cells is not counted


valid_rows = st.lists(st.fixed_dictionaries({
    "date_entree": st.dates(dt.date(2020, 1, 1), dt.date(2025, 12, 31)),
    "niveau_max": st.sampled_from([1, 2, 3]),
    "sexe": st.sampled_from(["F", "H", "f", " h "]),
    "tranche_age": st.sampled_from(["15-25", "26-44", "45-54", "55+"]),
    "rqth": st.sampled_from(["O", "N"]),
    "statut": st.sampled_from(["CDI", "CDD", "INTERIM", "ALTERNANCE", "AUTRE"]),
    "csp": st.sampled_from(["1", "2", "3", "4", "5", "6", 5]),
    "niveau_qualification": st.sampled_from(["SANS", "3", "4", "5", "6", "7", "8"]),
    "taille_entreprise": st.sampled_from(["TPE", "PE", "ME", "ETI", "GE", "SO"]),
    "secteur_naf": st.sampled_from(list("ABCQU")),
    "departement": st.sampled_from(["22", "29", "35", "56"]),
    "motif": st.sampled_from(["POINT", "PROJET", "COMPETENCES", "TRANSITION", "CREATION", "DEMISSION"]),
    "canal": st.sampled_from(["PRESENTIEL", "TELEPHONE", "VISIO", "MIXTE"]),
    "nb_entretiens": st.integers(0, 50),
    "duree_heures": st.decimals(0, 200, places=1).map(float),
    "closed": st.booleans(),
    "type_sortie": st.sampled_from(["PLAN_ACTION", "ABANDON", "REORIENTATION", "FIN_POINT"]),
    "document_synthese": st.sampled_from(["O", "N"]),
    "satisfaction": st.sampled_from([None, 1, 2, 3, 4, 5]),
}), min_size=1, max_size=6)


def as_rows(drawn: list[dict]) -> list[list]:
    rows = []
    for i, d in enumerate(drawn):
        closed = d["closed"]
        values = dict(d, id_parcours=f"P-{i:03d}",
                      date_sortie=dt.date(2025, 12, 31) if closed else None,
                      type_sortie=d["type_sortie"] if closed else None,
                      satisfaction=d["satisfaction"] if closed else None,
                      duree_heures=min(d["duree_heures"], 10) if d["niveau_max"] == 1 else d["duree_heures"])
        rows.append([values[h] for h in hc.HEADERS])
    return rows


@SETTINGS
@given(drawn=valid_rows)
def test_valid_workbook_stays_valid_after_round_trip(drawn):
    data = hc.valid_xlsx(as_rows(drawn))
    first = check_on_disk(data)
    assert first.valid, [p.to_dict() for p in first.errors]
    wb = openpyxl.load_workbook(io.BytesIO(data))
    out = io.BytesIO()
    wb.save(out)
    second = check_on_disk(out.getvalue())
    assert second.valid, [p.to_dict() for p in second.errors]
    pd.testing.assert_frame_equal(first.beneficiaries, second.beneficiaries)
    assert (first.identification, first.moyens, first.finances) == \
           (second.identification, second.moyens, second.finances)


ACCENTS = {"e": "éèêë", "a": "àâä", "i": "îï", "o": "ôö", "u": "ùûü", "c": "ç"}


@st.composite
def header_variant(draw, name: str) -> str:
    out = []
    for ch in name:
        if ch in ACCENTS and draw(st.booleans()):
            ch = draw(st.sampled_from(ACCENTS[ch]))
        out.append(ch.upper() if draw(st.booleans()) else ch)
    return draw(st.sampled_from(["", " ", "  ", "\u00a0"])) + "".join(out) + draw(st.sampled_from(["", " ", "\t"]))


@SETTINGS
@given(data=st.data(), drawn=valid_rows, broken=st.booleans())
def test_header_order_case_and_accents_do_not_change_the_result(data, drawn, broken):
    rows = as_rows(drawn)
    if broken:  # a few errors too, to compare their positions
        rows[0][3] = "X"
        rows[-1][15] = "beaucoup"
    order = data.draw(st.permutations(range(len(hc.HEADERS))))
    headers = [data.draw(header_variant(hc.HEADERS[i])) for i in order]
    permuted = [[r[i] for i in order] for r in rows]
    canonical = check_on_disk(hc.valid_xlsx(rows))
    varied = check_on_disk(hc.valid_xlsx(permuted, headers=headers))

    def key(result):
        return sorted((p.feuille, p.ligne or 0, p.colonne or "", p.code, p.valeur or "")
                      for p in result.errors + result.warnings)

    assert key(varied) == key(canonical)
    assert varied.valid == canonical.valid == (not broken)
    if canonical.valid:
        pd.testing.assert_frame_equal(canonical.beneficiaries, varied.beneficiaries)
    letters = {p.colonne: p.lettre for p in varied.errors}
    for name, letter in letters.items():  # letters point at the permuted columns
        assert letter == openpyxl.utils.get_column_letter(order.index(hc.HEADERS.index(name)) + 1)
