"""An auditor fills part of an audit grid in Chromium: a refused rating shows the
French message, then valid ratings are saved and the provisional score updates."""
from __future__ import annotations

import pytest

from tests.functional.quality_support import make_audit, make_contract

pytestmark = pytest.mark.browser


def test_auditor_fills_a_grid(page_for, live_server, accounts):
    audit = make_audit(make_contract(accounts["_orgs"]["op_a"]), 2025, accounts["auditeur"], state="en_cours")
    page = page_for("auditeur")
    page.goto(f"{live_server}/suivi/audits/{audit.id}/grille")
    assert "Grille d'audit" in page.locator("h1").inner_text()

    # a minor non-conformity without observation is refused
    page.select_option("#rating-A1", "NC_MINEURE")
    page.click("#ind-A1 button[type=submit]")
    assert "observation écrite est obligatoire" in page.locator("[data-testid=errors-A1]").inner_text()

    page.fill("#observation-A1", "Demandes souvent initiées par l'employeur.")
    page.click("#ind-A1 button[type=submit]")
    assert "Indicateur A1 enregistré" in page.inner_text("main")

    page.select_option("#rating-A2", "CONFORME")
    page.click("#ind-A2 button[type=submit]")
    page.select_option("#rating-A3", "NON_APPLICABLE")
    page.fill("#observation-A3", "Aucun dossier.")
    page.fill("#justification-A3", "Pas de public concerné sur la période.")
    page.click("#ind-A3 button[type=submit]")
    assert "Indicateur A3 enregistré" in page.inner_text("main")
    # A1 minor (1), A2 conforme (1), A3 N/A: 1/2
    assert page.locator("[data-testid=score-value]").inner_text().startswith("50,0")
    assert page.locator("#rating-A1").input_value() == "NC_MINEURE"
