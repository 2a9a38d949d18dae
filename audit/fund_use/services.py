"""Database side of the fund-use report: load the plain inputs of
`quality_framework.fund_use_report.build_report`, decide what each user may see, and
record payments (validated, journaled, never edited)."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Iterable

from sqlalchemy import select

from platform_core import journal
from platform_core.clock import today_paris
from platform_core.extensions import db
from platform_core.formatting import fr_date
from platform_core.models import Organisation, StoredFile
from platform_core.roles import ACHETEUR, ADMIN, OBSERVATEUR, OPERATEUR
from quality_framework.fund_use import PAYMENT_KINDS, euros_fr
from quality_framework.fund_use_report import (
    ContractInput, PaymentInput, VersionInput, build_report, contract_funds,
)
from tenders.models import Contract

from .models import PAYMENT_KIND_LABELS, Payment

MIN_YEAR, MAX_YEAR = 2000, 2100


# --------------------------------------------------------------------------- inputs

# The loaders below read plain columns (no ORM objects): the report needs values only,
# and building thousands of ORM objects per page was most of its cost.

def contract_inputs() -> list[ContractInput]:
    """Every contract, with its operator's name (one query)."""
    rows = db.session.execute(
        select(Contract.id, Contract.reference, Contract.region_code, Organisation.name,
               Contract.operator_id, Contract.annual_price, Contract.annual_capacity,
               Contract.starts_on, Contract.ends_on, Contract.fixed_share,
               Contract.satisfaction_target, Contract.status)
        .outerjoin(Organisation, Organisation.id == Contract.operator_id)
        .order_by(Contract.id))
    return [ContractInput(id=r.id, reference=r.reference, region_code=r.region_code,
                          operator_name=r.name or "", operator_id=r.operator_id,
                          annual_price=float(r.annual_price), annual_capacity=r.annual_capacity,
                          starts_on=r.starts_on, ends_on=r.ends_on, fixed_share=r.fixed_share,
                          satisfaction_target=r.satisfaction_target, status=r.status)
            for r in rows]


def payment_inputs(year: int | None = None) -> list[PaymentInput]:
    """Every payment, or those related to `year`."""
    query = select(Payment.id, Payment.contract_id, Payment.year, Payment.kind, Payment.amount,
                   Payment.paid_on, Payment.reference, Payment.reverses_payment_id)
    if year is not None:
        query = query.where(Payment.year == year)
    return [PaymentInput(id=r.id, contract_id=r.contract_id, year=r.year, kind=r.kind,
                         amount=float(r.amount), paid_on=r.paid_on, reference=r.reference or "",
                         reverses_payment_id=r.reverses_payment_id)
            for r in db.session.execute(query)]


def current_versions(year: int | None = None) -> list[VersionInput]:
    """The current workbook version of every (contract, year), or of `year` only, with the
    SHA-256 of its file (one query)."""
    from audit.workbooks.models import WorkbookVersion as V

    query = (select(V.id, V.contract_id, V.year, V.number, V.counts, V.means, V.finances,
                    V.uploaded_at, StoredFile.sha256)
             .outerjoin(StoredFile, StoredFile.id == V.stored_file_id)
             .where(V.is_current.is_(True)))
    if year is not None:
        query = query.where(V.year == year)
    return [VersionInput(id=r.id, contract_id=r.contract_id, year=r.year, number=r.number,
                         counts=r.counts, means=r.means, finances=r.finances,
                         uploaded_at=r.uploaded_at, sha256=r.sha256)
            for r in db.session.execute(query)]


def audit_scores(contract_ids: Iterable[int]) -> dict[int, tuple[float, bool]]:
    """Latest audit score per contract, from the quality-audit domain when it provides
    `audit.quality.services.latest_audit_scores`; empty (« aucun audit ») otherwise."""
    try:
        module = importlib.import_module("audit.quality.services")
    except ModuleNotFoundError:
        return {}
    provider = getattr(module, "latest_audit_scores", None)
    if provider is None:
        return {}
    return dict(provider(list(contract_ids)) or {})


def years_available() -> list[int]:
    """Years a report can be asked for: those covered by a contract or on record."""
    years: set[int] = set()
    for starts, ends in db.session.execute(select(Contract.starts_on, Contract.ends_on)):
        years.update(range(starts.year, ends.year + 1))
    years.update(db.session.scalars(select(Payment.year).distinct()))
    return sorted(years)


def compute_report(year: int, with_evolution: bool = True) -> dict[str, Any]:
    """The report computed now from the database (uncached: the CLI, the demo and the
    tests; the pages go through `report_cache.cached_report`)."""
    contracts = contract_inputs()
    return build_report(year, contracts, payment_inputs(), current_versions(),
                        audit_scores([c.id for c in contracts]), with_evolution=with_evolution)


def contract_funds_of_year(year: int) -> list[dict[str, Any]]:
    """Balances and variable parts of the contracts of `year` only (the officers'
    dashboard): the same formulas as the report, without loading other years."""
    return contract_funds(year, contract_inputs(), payment_inputs(year), current_versions(year))


# --------------------------------------------------------------------------- visibility

@dataclass(frozen=True)
class Scope:
    """What a user may see: everything, one region, or one operator's contracts."""

    kind: str  # "all" | "region" | "operator"
    region_code: str | None = None
    organisation_id: int | None = None

    @property
    def national(self) -> bool:
        return self.kind == "all"

    def sees_contract(self, contract_id_region: tuple[int | None, str]) -> bool:
        operator_id, region = contract_id_region
        if self.kind == "all":
            return True
        if self.kind == "region":
            return region == self.region_code
        return operator_id is not None and operator_id == self.organisation_id

    def sees_region(self, code: str) -> bool:
        return self.kind == "all" or (self.kind == "region" and code == self.region_code)


def scope_for(user) -> Scope:
    if user.has_role(ADMIN, ACHETEUR):
        return Scope("all")
    if user.has_role(OBSERVATEUR):
        return Scope("all") if user.region_code is None else Scope("region", user.region_code)
    if user.has_role(OPERATEUR):
        return Scope("operator", organisation_id=user.organisation_id or -1)
    return Scope("operator", organisation_id=-1)  # sees nothing


def filter_report(report: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """The report restricted to what the scope may see. The national medians stay (a
    benchmark every contract is positioned against); the national block does not."""
    if scope.national:
        return report
    contracts = [b for b in report["contracts"]
                 if scope.sees_contract((b["operator_id"], b["region_code"]))]
    ids = {b["id"] for b in contracts}
    refs = {b["reference"] for b in contracts}
    result = dict(report)
    result["contracts"] = contracts
    result["regions"] = [r for r in report["regions"] if scope.sees_region(r["id"])]
    result["national"] = None
    result["sources"] = {
        "versions": [v for v in report["sources"]["versions"] if v["contract_id"] in ids],
        "payments": [p for p in report["sources"]["payments"] if p["contract_reference"] in refs],
    }
    if "evolution" in report:
        evo = report["evolution"]
        result["evolution"] = {
            "years": evo["years"], "national": None,
            "regions": {k: v for k, v in evo["regions"].items() if scope.sees_region(k)},
            "contracts": {k: v for k, v in evo["contracts"].items() if k in ids},
        }
    return result


def visible_contract(contract_id: int, user) -> Contract | None:
    c = db.session.get(Contract, contract_id)
    if c is None or not scope_for(user).sees_contract((c.operator_id, c.region_code)):
        return None
    return c


# --------------------------------------------------------------------------- payments

def payment_problems(contract: Contract | None, paid_on: date | None, amount: Decimal | None,
                     kind: str | None, year: int | None) -> list[tuple[str, str]]:
    """(field, French message) for every problem of a payment; empty when valid."""
    problems: list[tuple[str, str]] = []
    if contract is None:
        problems.append(("contrat", "Contrat inconnu : indiquez la référence d'un contrat existant."))
    if kind not in PAYMENT_KINDS:
        problems.append(("nature", f"Nature inconnue « {kind or ''} » : attendu FIXE, VARIABLE "
                                   "ou REGULARISATION."))
    if paid_on is None:
        problems.append(("date", "Date de paiement absente ou invalide : attendu JJ/MM/AAAA."))
    elif paid_on > today_paris():
        problems.append(("date", f"Date de paiement {fr_date(paid_on)} dans le futur : "
                                 "n'enregistrez que des paiements effectués."))
    if amount is None:
        problems.append(("montant", "Montant absent ou invalide : attendu un nombre en euros "
                                    "avec au plus deux décimales."))
    elif amount.as_tuple().exponent < -2:
        problems.append(("montant", "Montant avec plus de deux décimales : arrondissez au centime."))
    elif kind in ("FIXE", "VARIABLE") and amount <= 0:
        problems.append(("montant", "Le montant d'un paiement de part fixe ou variable doit être "
                                    "strictement positif ; pour reprendre un trop-versé, "
                                    "enregistrez une régularisation négative."))
    elif kind == "REGULARISATION" and amount == 0:
        problems.append(("montant", "Une régularisation de 0 € n'a pas d'effet : indiquez un "
                                    "montant positif ou négatif."))
    elif abs(amount) >= Decimal("1000000000000"):
        problems.append(("montant", "Montant trop élevé."))
    if year is None or not MIN_YEAR <= year <= MAX_YEAR:
        problems.append(("annee", "Année de rattachement invalide : attendu une année sur "
                                  "quatre chiffres, par exemple 2025."))
    if contract is not None:
        if contract.status != "ACTIF":
            problems.append(("contrat", f"Le contrat {contract.reference} est "
                                        f"{contract.status_label} : aucun paiement ne peut "
                                        "plus y être enregistré."))
        if paid_on is not None and paid_on > contract.ends_on:
            problems.append(("date", f"Paiement daté du {fr_date(paid_on)}, après la fin du "
                                     f"contrat {contract.reference} ({fr_date(contract.ends_on)})."))
        if year is not None and MIN_YEAR <= year <= MAX_YEAR and not contract.covers_year(year):
            problems.append(("annee", f"Le contrat {contract.reference} ne couvre pas l'année "
                                      f"{year} ({contract.starts_on.year}–{contract.ends_on.year})."))
    return problems


def _payment_after(p: Payment) -> dict[str, Any]:
    return {"contrat": p.contract.reference if p.contract else p.contract_id,
            "date": p.paid_on.isoformat(), "montant": str(p.amount), "nature": p.kind,
            "reference": p.reference, "annee": p.year,
            "annule_paiement": p.reverses_payment_id}


def record_payment(contract: Contract, paid_on: date, amount: Decimal, kind: str, year: int,
                   reference: str, actor, reverses: Payment | None = None,
                   origin: str = "formulaire") -> Payment:
    """Add a validated payment and its journal entry (the caller commits)."""
    payment = Payment(contract_id=contract.id, contract=contract, paid_on=paid_on,
                      amount=amount, kind=kind, year=year, reference=(reference or "").strip(),
                      recorded_by=actor, reverses_payment_id=reverses.id if reverses else None)
    db.session.add(payment)
    db.session.flush()
    label = PAYMENT_KIND_LABELS[kind]
    summary = (f"Paiement {label} de {euros_fr(float(amount))} pour {contract.reference}, "
               f"année {year} ({origin})")
    if reverses is not None:
        summary = (f"Régularisation de {euros_fr(float(amount))} annulant le paiement "
                   f"n° {reverses.id} de {contract.reference}")
    journal.record("paiement_enregistre", "paiement", payment.id, summary,
                   after=_payment_after(payment), actor=actor)
    return payment


def reversal_problem(payment: Payment) -> str | None:
    if payment.reverses_payment_id is not None:
        return "Ce paiement est lui-même une régularisation d'annulation : il ne peut pas être annulé."
    already = db.session.scalar(select(Payment.id).where(Payment.reverses_payment_id == payment.id))
    if already:
        return f"Ce paiement a déjà été annulé par la régularisation n° {already}."
    return None


def reverse_payment(payment: Payment, actor, reference: str = "") -> Payment:
    """A REGULARISATION of the opposite amount, same contract and year, dated today.
    Allowed even on an ended contract: correcting a recorded error must stay possible."""
    return record_payment(payment.contract, today_paris(), -payment.amount, "REGULARISATION",
                          payment.year, reference or f"Annulation du paiement n° {payment.id}",
                          actor, reverses=payment)


def contract_by_reference(reference: str) -> Contract | None:
    return db.session.scalar(select(Contract).where(Contract.reference == reference))


def payments_of(contract_id: int) -> list[Payment]:
    return list(db.session.scalars(select(Payment).where(Payment.contract_id == contract_id)
                                   .order_by(Payment.year, Payment.paid_on, Payment.id)))
