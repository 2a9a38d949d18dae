"""Scan of every cell of every sheet for e-mail addresses and NIR (social-security numbers).

Vectorised: each column is joined into one string (cells separated by NUL) and scanned
by a single regex pass; match offsets are mapped back to rows with searchsorted. The
value reported is MASKED: the report is stored, the personal data must not be.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # problems.py imports mask_value from here
    from quality_framework.workbook.problems import ProblemSink

_SEP = "\x00"
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# NIR: first digit 1, 2, 7 or 8, then 12 digits, optionally the 2-digit key; single
# spaces allowed between digits; not part of a longer number or word.
_SP = "[ \u00a0\u202f]"
NIR = re.compile(
    rf"(?<![0-9A-Za-z])(?<![0-9]{_SP})[1278](?:{_SP}?[0-9]){{12}}(?:{_SP}?[0-9]{{2}})?"
    rf"(?![0-9A-Za-z])(?!{_SP}[0-9])"
)
_NIR_MIN_LENGTH = 13  # 13 digits at least
MESSAGE_EMAIL = ("Adresse e-mail interdite : le bilan est pseudonyme, aucune donnée personnelle "
                 "(seul le champ contact_email de la feuille Identification peut contenir une adresse).")
MESSAGE_NIR = ("Numéro de sécurité sociale (NIR) interdit : le bilan est pseudonyme, "
               "supprimez cette donnée personnelle.")


def mask_value(text: str) -> str:
    """Keep enough to find the cell, not enough to identify the person."""
    if "@" not in text and len(text) < 13:  # cheap: most values cannot hold either
        return text
    text = EMAIL.sub(lambda m: m.group(0)[0] + "•••@•••", text)
    return NIR.sub(lambda m: m.group(0)[0] + re.sub(r"\d", "•", m.group(0)[1:]), text)


def scan(sheet: str, text: pd.DataFrame, sink: ProblemSink, names: dict[int, str],
         letters: dict[int, str], exempt_email: set[tuple[int, int]] = frozenset(),
         exempt_nir: set[tuple[int, int]] = frozenset()) -> None:
    """Report every cell of `text` (object frame, '' when empty) holding an e-mail or a NIR.

    `names`/`letters`: column index -> name and letter for the report; `exempt_email`:
    (row, col) cells where an e-mail is allowed (contact_email); `exempt_nir`: cells whose
    digits are an organisation number (the Identification siret: a 13-digit typo there is
    reported as SIRET_INVALIDE, not as a NIR)."""
    for col in text.columns:
        cells = text[col]
        values = cells.tolist()
        joined = _SEP.join(values)
        hits: dict[int, str] = {}
        if "@" in joined:
            _collect(EMAIL, joined, cells, hits, MESSAGE_EMAIL)
        if values and max(map(len, values)) >= _NIR_MIN_LENGTH:  # codes, dates: too short
            _collect(NIR, joined, cells, hits, MESSAGE_NIR)
        for pos in sorted(hits):
            row = int(cells.index[pos])
            if (row, col) in (exempt_email if hits[pos] == MESSAGE_EMAIL else exempt_nir):
                continue
            sink.add(sheet, row + 1, names.get(col), letters.get(col),
                     cells.iloc[pos], "DONNEE_PERSONNELLE", hits[pos])


def _collect(pattern: re.Pattern[str], joined: str, cells: pd.Series, hits: dict[int, str], message: str) -> None:
    starts = [m.start() for m in pattern.finditer(joined)]
    if not starts:
        return
    # Offset of each cell in `joined`: cumulative lengths plus one separator each.
    lengths = cells.str.len().to_numpy(dtype=np.int64) + 1
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    for pos in np.searchsorted(offsets, starts, side="right") - 1:
        hits.setdefault(int(pos), message)
