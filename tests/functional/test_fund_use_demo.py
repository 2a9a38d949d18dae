"""Demo payments: realistic, idempotent, nothing without contracts."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from audit.fund_use.demo import load_demo_payments
from audit.fund_use.models import Payment
from audit.fund_use.services import compute_report
from platform_core.extensions import db
from quality_framework.indicators import Counts
from tests.functional.test_fund_use_pages import make_contract, make_version


def test_no_contract_no_payment(app, accounts):
    assert "aucun contrat" in load_demo_payments()
    assert db.session.scalar(select(func.count(Payment.id))) == 0


def test_demo_payments(app, accounts, monkeypatch):
    from audit.fund_use import services

    monkeypatch.setattr(services, "today_paris", lambda: date(2026, 11, 23))
    orgs = accounts["_orgs"]
    contracts = [make_contract(orgs["op_a" if i % 2 else "op_b"], f"CEP-DEMO-{i}", "53", 100000, 100)
                 for i in range(3)]
    for year in (2024, 2025):
        for c in contracts:
            make_version(c, Counts(entrees=90, parcours_actifs=120, sorties=50,
                                   satisfaction_answers=40, satisfaction_satisfied=36),
                         {"PERSONNEL": 90000}, 2.0, year=year)
    db.session.commit()
    summary = load_demo_payments()
    db.session.commit()
    assert "trop-perçu" in summary
    n = db.session.scalar(select(func.count(Payment.id)))
    # 3 contracts × 4 quarters × 2 years + 1 duplicate + 3 variables 2024 + 2 variables 2025
    assert n == 24 + 1 + 3 + 2
    late = db.session.scalar(select(Payment).where(Payment.reference == "DEMO-VARIABLE-2024-RETARD"))
    assert late.paid_on == date(2025, 12, 10) and late.kind == "VARIABLE"
    report = compute_report(2025, with_evolution=False)
    statuses = {b["reference"]: b["funds"]["balance"]["status"] for b in report["contracts"]}
    assert statuses["CEP-DEMO-0"] == "TROP_PERCU"
    assert statuses["CEP-DEMO-2"] == "DU"          # variable 2025 not yet paid
    report_2024 = compute_report(2024, with_evolution=False)
    assert {b["funds"]["balance"]["status"] for b in report_2024["contracts"]} == {"SOLDE"}
    assert load_demo_payments() is None            # idempotent
    assert db.session.scalar(select(func.count(Payment.id))) == n
