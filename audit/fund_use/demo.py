"""Demo payments (step 30), on the demo contracts (step 10) and workbooks (step 20):
quarterly FIXE payments for 2024 and 2025, the VARIABLE part paid in April of the
following year at the amount the rule gives; one contract paid twice for a quarter
(an overpayment), one variable part paid late, one 2025 variable part not yet paid."""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from platform_core.demo import register_demo_step
from platform_core.extensions import db
from quality_framework.fund_use import split_price
from tenders.models import Contract

from .models import Payment
from .services import compute_report, payment_problems, record_payment

YEARS = (2024, 2025)
PREFIX = "DEMO-"
QUARTER_DAYS = ((3, 31), (6, 30), (9, 30), (12, 15))


def _pay(contract, paid_on, amount, kind, year, reference) -> bool:
    amount = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if payment_problems(contract, paid_on, amount, kind, year):
        return False  # e.g. a date still in the future: the demo never forces bad data
    record_payment(contract, paid_on, amount, kind, year, reference, None, origin="démonstration")
    return True


def load_demo_payments() -> str | None:
    if db.session.scalar(select(Payment.id).where(Payment.reference.startswith(PREFIX)).limit(1)):
        return None
    contracts = list(db.session.scalars(select(Contract).where(Contract.status == "ACTIF")
                                        .order_by(Contract.reference)))
    if not contracts:
        return "aucun contrat de démonstration : aucun paiement créé (chargez d'abord les marchés)"
    created = 0
    for year in YEARS:
        covered = [c for c in contracts if c.covers_year(year)]
        for c in covered:
            fixed = Decimal(str(split_price(float(c.annual_price), c.fixed_share).fixed))
            quarter = (fixed / 4).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            for i, (month, day) in enumerate(QUARTER_DAYS):
                amount = quarter if i < 3 else fixed - 3 * quarter
                created += _pay(c, date(year, month, day), amount, "FIXE", year,
                                f"{PREFIX}FIXE-{year}-T{i + 1}")
        if covered and year == 2025:  # the overpayment: a quarter paid twice
            c = covered[0]
            fixed = Decimal(str(split_price(float(c.annual_price), c.fixed_share).fixed))
            created += _pay(c, date(2025, 7, 2), (fixed / 4).quantize(Decimal("0.01")), "FIXE",
                            2025, f"{PREFIX}FIXE-2025-T2-DOUBLON")
        db.session.flush()
        report = compute_report(year, with_evolution=False)
        earned = {b["id"]: b["funds"]["variable_earned"] for b in report["contracts"]}
        for i, c in enumerate(covered):
            amount = earned.get(c.id) or 0
            if amount <= 0:
                continue
            if year == 2025 and i == 2:
                continue  # 2025 variable part not yet paid: shows on the officers' dashboard
            on = date(year + 1, 4, 15)
            reference = f"{PREFIX}VARIABLE-{year}"
            if year == 2024 and i == 1:
                on, reference = date(2025, 12, 10), f"{PREFIX}VARIABLE-2024-RETARD"
            created += _pay(c, on, amount, "VARIABLE", year, reference)
    return (f"{created} paiements fictifs sur {len(contracts)} contrats (2024–2025), dont un "
            "trop-perçu et une part variable payée en retard")


register_demo_step(30, "paiements et usage des fonds", load_demo_payments)
