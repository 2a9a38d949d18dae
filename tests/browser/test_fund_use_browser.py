"""Fund use in Chromium: record a payment through the form, read the report with its
SVG charts, and print it (header and forms hidden by the print stylesheet)."""
from __future__ import annotations

import pytest

from tests.functional.test_fund_use_pages import data  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


def test_officer_records_a_payment_and_reads_the_report(page_for, live_server, data):  # noqa: F811
    page = page_for("acheteur")
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server}/suivi/usage-des-fonds/contrat/{data['a']}?annee=2024")
    page.click("text=Enregistrer un paiement")
    page.fill("#paid_on", "2024-12-20")
    page.fill("#amount", "3 000,00")
    page.select_option("#kind", "VARIABLE")
    page.fill("#year", "2024")
    page.fill("#reference", "MANDAT-NAV")
    page.click("main form button:has-text(\"Enregistrer le paiement\")")
    assert "Paiement n°" in page.inner_text("main")
    assert "Contrat soldé" in page.inner_text("[data-testid=solde]")   # 98000 earned, 98000 paid

    page.goto(f"{live_server}/suivi/usage-des-fonds/?annee=2024")
    assert page.locator("svg.chart").count() >= 4
    assert page.locator("svg.chart").first.is_visible()
    page.select_option("#annee", "2025")
    page.click("[data-testid=choix-annee] button[type=submit]")
    assert "— 2025" in page.locator("h1").inner_text()

    page.goto(f"{live_server}/suivi/usage-des-fonds/?annee=2024&impression=1")
    page.emulate_media(media="print")
    assert not page.locator("header.fr-header").is_visible()
    assert page.locator("svg.chart").first.is_visible()
    assert not [e for e in errors if "Content Security Policy" in e]
