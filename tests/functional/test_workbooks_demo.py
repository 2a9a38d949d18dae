"""The demo step imports generated workbooks through the real check and deposit."""
from __future__ import annotations

from sqlalchemy import func, select

from audit.workbooks import demo
from audit.workbooks.figures import scope_figures
from audit.workbooks.models import WorkbookVersion, beneficiary_rows
from platform_core.extensions import db
from tests.functional.test_workbooks_import import make_contract


def test_demo_without_contracts_creates_nothing(app, accounts):
    assert "aucun marché" in demo.load()
    assert db.session.scalar(select(func.count()).select_from(WorkbookVersion)) == 0


def test_demo_imports_two_years_and_is_idempotent(app, accounts, monkeypatch):
    monkeypatch.setattr(demo, "ROWS_MIN", 60)
    monkeypatch.setattr(demo, "ROWS_MAX", 60)
    contracts = [make_contract(accounts["_orgs"]["op_a"], "53", "CEP-D1"),
                 make_contract(accounts["_orgs"]["op_b"], "52", "CEP-D2")]
    summary = demo.load()
    assert summary.startswith("4 bilans importés (240 lignes")
    assert db.session.scalar(select(func.count()).select_from(beneficiary_rows)) == 240
    assert demo.load() is None  # second run: nothing to add
    fig = scope_figures(contracts, 2025)
    assert fig.years == [2024, 2025]
    # contract index 1 has the high-abandon profile
    assert any(a.indicator == "taux_abandon" and v.contract.reference == "CEP-D2" for v, a in fig.alerts)
