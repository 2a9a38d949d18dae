"""An operator deposits a workbook in a real browser: the status page refreshes itself
(no JavaScript) until the background job is done."""
from __future__ import annotations

import pytest

from tests.functional.test_workbooks_import import SIRET_A, make_contract
from tests.functional.workbook_files import write_workbook

pytestmark = pytest.mark.browser


def test_operator_deposits_and_page_refreshes_until_done(app, accounts, page_for, live_server, tmp_path):
    app.config["WORKBOOK_IMPORT_SYNC"] = False  # the real background thread
    contract = make_contract(accounts["_orgs"]["op_a"])
    path = write_workbook(tmp_path / "bilan.xlsx", siret=SIRET_A)
    page = page_for("operateur")
    page.goto(f"{live_server}/suivi/bilans/depot?marche={contract.id}")
    page.select_option("#year", "2025")
    page.set_input_files("#file", str(path))
    page.click("button[value=deposer]")
    page.wait_for_url("**/traitements/*")
    page.get_by_text("Bilan déposé : version 1, 6 lignes").wait_for(timeout=30_000)
    assert page.locator("[data-testid=apercu]").count() == 1
    page.goto(f"{live_server}/suivi/bilans/indicateurs/marches/{contract.id}?annee=2025")
    assert page.locator("tr[data-indicateur=entrees] td").inner_text() == "5"
    assert page.locator("svg.chart").count() >= 3
