"""Problems found in a workbook, the collector that builds them from masks, and the result."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from quality_framework.workbook.personal_data import mask_value

ERROR = "erreur"
WARNING = "avertissement"
_MAX_VALUE_CHARS = 200


@dataclass(frozen=True, slots=True)
class Problem:
    feuille: str
    ligne: int | None  # spreadsheet row as the user sees it (header = row 1)
    colonne: str | None  # contract name of the column (or field), else the header found
    lettre: str | None  # column letter in the ORIGINAL file
    valeur: str | None
    code: str
    message: str
    severite: str  # "erreur" | "avertissement"

    def to_dict(self) -> dict[str, Any]:
        return {"feuille": self.feuille, "ligne": self.ligne, "colonne": self.colonne,
                "lettre": self.lettre, "valeur": self.valeur, "code": self.code,
                "message": self.message}


# C0/C1 control characters (NUL, ESC…): shown as « � » so that a value echoed by the
# CLI text report cannot drive the terminal (ESC sequences) and the stored JSON holds no NUL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _clip(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
        return None
    text = _CONTROL.sub("\ufffd", mask_value(str(value)))  # reports are stored: never echo personal data
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 1] + "…"


class ProblemSink:
    """Collects problems; `add_mask` turns a boolean mask over rows into problems."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, feuille: str, ligne: int | None, colonne: str | None, lettre: str | None,
            valeur: object, code: str, message: str, severite: str = ERROR) -> None:
        self.problems.append(Problem(feuille, ligne, colonne, lettre, _clip(valeur), code, message, severite))

    def add_mask(self, feuille: str, mask: pd.Series, colonne: str, lettre: str | None,
                 values: pd.Series | None, code: str, message: str | pd.Series,
                 severite: str = ERROR) -> None:
        """One problem per True in `mask`; the mask's index holds 0-based grid rows."""
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        rows = mask.index[mask.to_numpy()]
        vals = values[mask].tolist() if values is not None else [None] * len(rows)
        msgs = message[mask].tolist() if isinstance(message, pd.Series) else [message] * len(rows)
        self.problems.extend(
            Problem(feuille, int(r) + 1, colonne, lettre, _clip(v), code, m, severite)
            for r, v, m in zip(rows, vals, msgs)
        )


@dataclass
class ValidationResult:
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)
    # Normalised data, only when there is no error.
    identification: dict[str, Any] | None = None
    beneficiaries: pd.DataFrame | None = None
    moyens: dict[str, float] | None = None
    finances: dict[str, float] | None = None

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        """The CLI / API report: {"erreurs": [...], "avertissements": [...], "lignes": {...}}."""
        return {
            "erreurs": [p.to_dict() for p in self.errors],
            "avertissements": [p.to_dict() for p in self.warnings],
            "lignes": dict(self.lines),
        }

    def to_text(self, limit: int | None = None) -> str:
        """Readable French summary; `limit` caps the detailed lines per severity."""
        n_err, n_warn = len(self.errors), len(self.warnings)
        lines_read = ", ".join(f"{k} : {v}" for k, v in self.lines.items()) or "aucune"
        out = [
            "Classeur valide : aucune erreur." if not n_err else
            f"Classeur refusé : {n_err} erreur{'s' * (n_err > 1)} à corriger avant le dépôt.",
            f"Avertissements : {n_warn}. Lignes lues : {lines_read}.",
        ]
        for title, problems in (("Erreurs", self.errors), ("Avertissements", self.warnings)):
            if not problems:
                continue
            by_code = ", ".join(f"{c} × {n}" for c, n in Counter(p.code for p in problems).most_common())
            out += ["", f"{title} ({by_code}) :"]
            shown = problems if limit is None else problems[:limit]
            out += [_line(p) for p in shown]
            if len(shown) < len(problems):
                out.append(f"… et {len(problems) - len(shown)} de plus (voir le rapport JSON).")
        return "\n".join(out)


def _line(p: Problem) -> str:
    where = [p.feuille]
    if p.ligne is not None:
        where.append(f"ligne {p.ligne}")
    if p.colonne:
        where.append(f"colonne {p.colonne}" + (f" ({p.lettre})" if p.lettre else ""))
    value = f" — valeur « {p.valeur} »" if p.valeur is not None else ""
    return f"- {', '.join(where)}{value} : {p.message} [{p.code}]"
