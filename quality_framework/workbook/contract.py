"""The activity-workbook contract, loaded once from contract.yaml into small dataclasses.

Iterate it as sheets -> columns (or fields) -> type / codes / labels / description:

    c = load_contract()
    for sheet in c.sheets:
        for col in sheet.columns:          # table columns, or the fields of a « fields » sheet
            col.name, col.type, col.code_labels(), col.description

Everything the validator says about a column (expected type, range, code list) is
derived from this declaration by `ColumnSpec.expected_text(year)`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from quality_framework import reference

CONTRACT_PATH = Path(__file__).with_name("contract.yaml")
_RELATIVE_DATE = re.compile(r"^\{N([+-]\d+)?\}-(\d\d)-(\d\d)$")
TYPES = {"text", "integer", "decimal", "date", "code", "siret", "email", "year"}


@dataclass(frozen=True)
class CodeList:
    name: str
    label: str
    codes: dict[str, str]  # code -> French label, in declaration order


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str
    description: str = ""
    example: str = ""
    required: bool = True
    nullable: bool = False
    unique: bool = False
    pattern: str | None = None
    codes: CodeList | None = None
    reference: str | None = None  # "regions" | "departements"
    zero_pad: int | None = None
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    max_decimals: int | None = None
    date_min: str | None = None  # "{N-5}-01-01"
    date_max: str | None = None
    expected: str | None = None

    def allowed_codes(self) -> list[str]:
        """Codes in declaration order (reference lists come from reference.py)."""
        if self.codes is not None:
            return list(self.codes.codes)
        if self.reference == "regions":
            return list(reference.regions())
        if self.reference == "departements":
            return list(reference.departements())
        return []

    def code_labels(self) -> dict[str, str]:
        if self.codes is not None:
            return dict(self.codes.codes)
        if self.reference == "regions":
            return {c: r.name for c, r in reference.regions().items()}
        if self.reference == "departements":
            return {c: d.name for c, d in reference.departements().items()}
        return {}

    def date_bounds(self, year: int) -> tuple[date | None, date | None]:
        return _resolve_date(self.date_min, year), _resolve_date(self.date_max, year)

    def expected_text(self, year: int) -> str:
        """French « what was expected » sentence, e.g. for error messages and the docs."""
        if self.expected:
            return self.expected
        t = self.type
        if t == "date":
            lo, hi = self.date_bounds(year)
            text = "Date attendue au format JJ/MM/AAAA ou AAAA-MM-JJ"
            if lo and hi:
                text += f", entre le {lo:%d/%m/%Y} et le {hi:%d/%m/%Y}"
            elif hi:
                text += f", au plus tard le {hi:%d/%m/%Y}"
            elif lo:
                text += f", au plus tôt le {lo:%d/%m/%Y}"
            return text
        if self.codes is not None or self.reference:
            if self.reference == "departements":
                return "Code de département attendu (par exemple 01, 2A, 69, 971)"
            labels = self.code_labels()
            listed = ", ".join(f"{c} ({lbl})" for c, lbl in labels.items())
            return f"Code attendu parmi : {listed}"
        if t in ("integer", "decimal"):
            kind = "Nombre entier" if t == "integer" else "Nombre"
            text = f"{kind} attendu"
            if self.min is not None and self.max is not None:
                text += f" entre {_num(self.min)} et {_num(self.max)}"
            elif self.min is not None:
                text += (" strictement supérieur à " if self.min_exclusive else " supérieur ou égal à ") + _num(self.min)
            if self.max_decimals is not None:
                text += f", avec au plus {self.max_decimals} décimales"
            if t == "decimal":
                text += " (virgule ou point décimal)"
            return text
        if t == "siret":
            return "SIRET attendu : 14 chiffres avec une clé de contrôle valide"
        if t == "year":
            return "Année attendue sur 4 chiffres"
        if t == "email":
            return "Adresse e-mail valide attendue (adresse de service de préférence)"
        return "Texte attendu"


@dataclass(frozen=True)
class SheetSpec:
    name: str
    layout: str  # "table" | "fields"
    columns: tuple[ColumnSpec, ...]  # table columns, or fields of a « fields » sheet
    description: str = ""
    key_column: str | None = None
    value_column: str | None = None

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class RuleSpec:
    id: str
    sheet: str
    column: str
    code: str
    severite: str
    message: str
    threshold: float | None = None


@dataclass(frozen=True)
class Contract:
    version: int
    title: str
    sheets: tuple[SheetSpec, ...]
    code_lists: dict[str, CodeList]
    problem_codes: dict[str, dict[str, str]]  # code -> {severite, description}
    personal_data_headers: frozenset[str]
    email_allowed_in: tuple[str, str]  # (sheet, field)
    rules: dict[str, RuleSpec] = field(default_factory=dict)
    due: str = ""  # « 31 mars de l'année N+1 »

    def sheet(self, name: str) -> SheetSpec:
        return next(s for s in self.sheets if s.name == name)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x).replace(".", ",")


def _resolve_date(spec: str | None, year: int) -> date | None:
    if not spec:
        return None
    m = _RELATIVE_DATE.match(spec)
    if not m:
        raise ValueError(f"contract.yaml: date relative invalide {spec!r}")
    return date(year + int(m.group(1) or 0), int(m.group(2)), int(m.group(3)))


def _column(raw: dict[str, Any], code_lists: dict[str, CodeList]) -> ColumnSpec:
    if raw["type"] not in TYPES:
        raise ValueError(f"contract.yaml: type inconnu {raw['type']!r} pour {raw['name']}")
    kwargs = {k: v for k, v in raw.items() if k not in ("codes", "example")}
    if "codes" in raw:
        kwargs["codes"] = code_lists[raw["codes"]]
    return ColumnSpec(example=str(raw.get("example", "")), **kwargs)


def parse_contract(data: dict[str, Any]) -> Contract:
    code_lists = {
        name: CodeList(name, str(cl.get("label", name)), {str(k): str(v) for k, v in cl["codes"].items()})
        for name, cl in data["code_lists"].items()
    }
    sheets = tuple(
        SheetSpec(
            name=s["name"],
            layout=s["layout"],
            columns=tuple(_column(c, code_lists) for c in s.get("columns") or s.get("fields")),
            description=str(s.get("description", "")).strip(),
            key_column=s.get("key_column"),
            value_column=s.get("value_column"),
        )
        for s in data["sheets"]
    )
    pdata = data["personal_data"]
    allowed = pdata["email_allowed_in"]
    return Contract(
        version=int(data["version"]),
        title=str(data["title"]),
        sheets=sheets,
        code_lists=code_lists,
        problem_codes={k: dict(v) for k, v in data["problem_codes"].items()},
        personal_data_headers=frozenset(pdata["headers"]),
        email_allowed_in=(allowed["sheet"], allowed["field"]),
        rules={r["id"]: RuleSpec(**r) for r in data.get("rules", [])},
        due=str(data.get("due", "")),
    )


@lru_cache(maxsize=1)
def load_contract(path: str | None = None) -> Contract:
    """The contract (cached). `path` lets a test or a future version load another file."""
    with open(path or CONTRACT_PATH, encoding="utf-8") as fh:
        return parse_contract(yaml.safe_load(fh))
