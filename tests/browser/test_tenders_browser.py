"""In Chromium: an operator fills in and submits a bid; an officer ranks a lot and awards it."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from platform_core.extensions import db
from tenders.models import Bid, Contract
from tests.functional.tenders_support import DOCS, PDF, create_published_tender, lot_of_region, tender_in_db

pytestmark = pytest.mark.browser


def test_operator_submits_a_bid(page_for, client_for, tmp_path):
    tender = create_published_tender(client_for("acheteur"))
    lot = lot_of_region(tender, "53")
    page = page_for("operateur")
    page.goto(page.url.replace("/tableau-de-bord", f"/appels-offres/{tender.id}"))
    page.get_by_role("button", name=f"Répondre au lot {lot.number}").click()
    pdf = tmp_path / "piece.pdf"
    pdf.write_bytes(PDF)
    for doc in DOCS:
        page.select_option("#doc_type", doc)
        page.set_input_files("#fichier", str(pdf))
        page.get_by_role("button", name="Ajouter la pièce").click()
        page.wait_for_load_state()
    assert page.locator("[data-testid=pieces-manquantes]").count() == 0
    for field, value in {"capacite_annuelle": "3500", "etp_conseillers": "15", "delai_premier_rdv_jours": "7",
                         "heures_hors_temps_travail_hebdo": "6", "nb_conseillers": "18",
                         "nb_conseillers_qualifies": "12", "experience_moyenne_annees": "4",
                         "heures_formation_par_etp": "21", "prix_annuel_eur": "1900000",
                         "site_0_commune": "Rennes", "site_0_departement": "35"}.items():
        page.fill(f"#{field}", value)
    page.click("label[for=canal-TELEPHONE]")  # DSFR: the label covers the box
    page.click("label[for=canal-VISIO]")  # DSFR: the label covers the box
    page.click("label[for=analyse_des_pratiques]")  # DSFR: the label covers the box
    page.click("label[for=neutralite]")  # DSFR: the label covers the box
    page.click("[data-testid=deposer]")
    assert "Récépissé de dépôt" in page.inner_text("h1")
    bid = db.session.scalar(select(Bid))
    db.session.refresh(bid)
    assert bid.status == "DEPOSEE" and len(bid.documents) == 4
    assert bid.documents[0].stored_file.sha256 in page.inner_text("main")


def test_officer_ranks_and_awards_a_lot(page_for, accounts):
    orgs = accounts["_orgs"]
    tender = tender_in_db(bids=[(orgs["op_a"], "53", {}),
                                (orgs["op_b"], "53", {"prix_annuel_eur": 1500000, "capacite_annuelle": 3900})])
    lot = lot_of_region(tender, "53")
    page = page_for("acheteur")
    page.goto(page.url.replace("/tableau-de-bord", f"/appels-offres/lots/{lot.id}"))
    page.click("[data-testid=classer]")
    assert "classé" in page.inner_text("main")
    first_row = page.locator("[data-testid=classement] tbody tr").first
    assert first_row.locator("td").first.inner_text() == "1"
    page.select_option("#opinion", "FAVORABLE")
    page.fill("#opinion_date", "2026-12-01")
    page.fill("#opinion_text", "Avis favorable.")
    page.fill("#decision", "Attribution au premier.")
    page.get_by_role("button", name="Attribuer le lot à l'offre classée première").click()
    assert "Lot attribué" in page.inner_text("main")
    db.session.expire_all()
    assert db.session.scalar(select(Contract).where(Contract.lot_id == lot.id)) is not None
