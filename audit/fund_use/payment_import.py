"""Import of payments from an xlsx (columns contrat, date, montant, nature, reference,
annee), validated like the activity workbooks: the file is read safely, every row is
checked, the report names row, column, value and a French message; all or nothing."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from platform_core.extensions import db
from quality_framework.workbook.reader import UnreadableWorkbook, read_workbook

from .models import Payment
from .services import contract_by_reference, payment_problems

COLUMNS = ("contrat", "date", "montant", "nature", "reference", "annee")
REQUIRED = ("contrat", "date", "montant", "nature", "annee")
MAX_ROWS = 5000


@dataclass
class Problem:
    row: int | None       # spreadsheet row as the user sees it (header = 1)
    column: str | None
    value: str
    message: str


@dataclass
class ImportResult:
    rows: list[dict[str, Any]] = field(default_factory=list)   # valid parsed rows
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


def _norm(text: Any) -> str:
    text = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    return text.strip().lower().replace(" ", "_")


def _shown(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (date, datetime)):
        return value.strftime("%d/%m/%Y")
    return "" if value is None else str(value)


def parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        # a float read from a cell: its shortest repr is what the user typed
        text = repr(float(value))
    else:
        text = str(value).strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
        text = text.replace("€", "").replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    return amount.normalize() if amount == amount.to_integral() else amount


def parse_year(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) == 4 else None


def _duplicate_message(key: tuple, seen: dict[tuple, int]) -> str | None:
    """A file imported twice must not pay twice: a row identical (contract, date, amount,
    nature, year, reference) to an earlier row or to a recorded payment is refused."""
    if key in seen:
        return (f"Ligne identique à la ligne {seen[key]} (même contrat, date, montant, nature, "
                "année et référence) : donnez une référence distincte si ce sont bien deux "
                "paiements.")
    contract_id, paid_on, amount, kind, year, reference = key
    existing = db.session.scalar(select(Payment.id).where(
        Payment.contract_id == contract_id, Payment.paid_on == paid_on,
        Payment.amount == amount, Payment.kind == kind, Payment.year == year,
        Payment.reference == reference).limit(1))
    if existing:
        return (f"Ce paiement est déjà enregistré (n° {existing}, même contrat, date, montant, "
                "nature, année et référence) : le fichier a-t-il déjà été importé ?")
    return None


def check_payments_file(data: bytes) -> ImportResult:
    result = ImportResult()
    try:
        raw = read_workbook(data)
    except UnreadableWorkbook as exc:
        result.problems.append(Problem(None, None, "", exc.message))
        return result
    if not raw.sheets:
        result.problems.append(Problem(None, None, "", "Le classeur ne contient aucune feuille."))
        return result
    name = next((n for n in raw.sheets if _norm(n) == "paiements"), next(iter(raw.sheets)))
    grid = raw.sheets[name]
    if grid.empty:
        result.problems.append(Problem(None, None, "", f"La feuille « {name} » est vide : "
                                       "attendu une ligne d'en-têtes " + ", ".join(COLUMNS) + "."))
        return result
    headers = [_norm(h) for h in grid.iloc[0].tolist()]
    missing = [c for c in REQUIRED if c not in headers]
    if missing:
        result.problems.append(Problem(1, ", ".join(missing), "",
                                       "Colonne(s) obligatoire(s) absente(s) : "
                                       + ", ".join(missing) + ". Attendu en ligne 1 : "
                                       + ", ".join(COLUMNS) + "."))
        return result
    if len(grid) - 1 > MAX_ROWS:
        result.problems.append(Problem(None, None, "", f"Trop de lignes ({len(grid) - 1}) : "
                                       f"au plus {MAX_ROWS} paiements par fichier."))
        return result
    index = {c: headers.index(c) for c in COLUMNS if c in headers}
    contracts: dict[str, Any] = {}
    seen: dict[tuple, int] = {}
    for i in range(1, len(grid)):
        cells = grid.iloc[i].tolist()
        values = {c: cells[j] if j < len(cells) else "" for c, j in index.items()}
        if all(v is None or str(v).strip() == "" for v in values.values()):
            continue  # blank line
        row = i + 1
        ref = str(values["contrat"] or "").strip()
        if ref not in contracts:
            contracts[ref] = contract_by_reference(ref) if ref else None
        kind = str(values["nature"] or "").strip().upper()
        parsed = {
            "contract": contracts[ref], "paid_on": parse_date(values["date"]),
            "amount": parse_amount(values["montant"]), "kind": kind,
            "year": parse_year(values["annee"]),
            "reference": str(values.get("reference") or "").strip()[:80], "row": row,
        }
        problems = payment_problems(parsed["contract"], parsed["paid_on"], parsed["amount"],
                                    kind, parsed["year"])
        for column, message in problems:
            if column == "contrat" and parsed["contract"] is None:
                message = f"Contrat « {ref} » inconnu : indiquez la référence d'un contrat existant."
            result.problems.append(Problem(row, column, _shown(values.get(column)), message))
        if not problems:
            key = (parsed["contract"].id, parsed["paid_on"], parsed["amount"], kind,
                   parsed["year"], parsed["reference"])
            duplicate = _duplicate_message(key, seen)
            if duplicate:
                result.problems.append(Problem(row, "reference", parsed["reference"], duplicate))
                continue
            seen[key] = row
            result.rows.append(parsed)
    if not result.rows and not result.problems:
        result.problems.append(Problem(None, None, "", "Le fichier ne contient aucun paiement."))
    return result
