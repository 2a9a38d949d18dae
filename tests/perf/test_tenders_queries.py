"""Tender pages and exports over a whole consultation: SQL statements must not grow with
the number of bids (no N+1), and the exports of 18 lots x 10 bids stay fast.

The tender is built in the database (tests/functional/tenders_support.tender_in_db) with
per bid: its operator, the 4 mandatory PDF pieces and two evaluators' marks (plus a
moderation on one bid per lot); every lot is awarded, so OCDS and the results list bids."""
from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from platform_core.extensions import db
from platform_core.files import store_bytes
from platform_core.models import Organisation
from tenders.models import Bid, BidDocument, EvaluatorAssignment, ManualMark
from tests.functional.tenders_support import DOCS, PDF, tender_in_db
from tests.perf.test_query_counts import count_statements

PAGES = {
    "lot": lambda t: f"/appels-offres/lots/{t.lots[0].id}",
    "rapport": lambda t: f"/appels-offres/{t.id}/rapport",
    "rapport-xlsx": lambda t: f"/appels-offres/{t.id}/rapport.xlsx",
    "resultats": lambda t: f"/appels-offres/{t.id}/resultats",
    "ocds": lambda t: f"/appels-offres/{t.id}/ocds.json",
}


def build(accounts, bids_per_lot: int, reference: str):
    tender = tender_in_db(status="ATTRIBUEE", manual=True, reference=reference)
    orgs = []
    for k in range(bids_per_lot):
        org = Organisation(siret=f"9{reference[-1]}{k:012d}"[:14], name=f"Opérateur {reference} {k}",
                           kind="OPERATEUR", region_code="53")
        db.session.add(org)
        orgs.append(org)
    db.session.flush()
    files = [store_bytes(PDF, f"{d}.pdf", "pdf") for d in DOCS]
    db.session.flush()
    evaluators = [accounts["evaluateur"], accounts["admin"]]
    for lot in tender.lots:
        for k, org in enumerate(orgs):
            bid = Bid(lot_id=lot.id, operator_id=org.id, status="DEPOSEE",
                      answers={"capacite_annuelle": 1000 + 10 * k, "etp_conseillers": 6, "delai_premier_rdv_jours": 7,
                               "sites": [{"commune": "Rennes", "departement": "35", "type": "PERMANENT"}],
                               "canaux_distance": ["TELEPHONE"], "heures_hors_temps_travail_hebdo": 6,
                               "nb_conseillers": 7, "nb_conseillers_qualifies": 5, "experience_moyenne_annees": 4,
                               "heures_formation_par_etp": 21, "analyse_des_pratiques": True,
                               "prix_annuel_eur": 650_000 + 5_000 * k},
                      neutrality_declared=True, submitted_at=tender.submission_deadline - timedelta(hours=k + 1),
                      admissible=True, admissibility_reason="Confirmé.", auto_admissibility=[],
                      final_rank=k + 1, final_total=80.0 - k)
            db.session.add(bid)
            db.session.flush()
            for d, f in zip(DOCS, files):
                db.session.add(BidDocument(bid_id=bid.id, doc_type=d, stored_file_id=f.id))
            for e in evaluators:
                db.session.add(ManualMark(bid_id=bid.id, criterion="METHODO", evaluator_id=e, mark=3,
                                          justification="Méthodologie claire."))
            if k == 0:
                db.session.add(ManualMark(bid_id=bid.id, criterion="METHODO", evaluator_id=accounts["acheteur"],
                                          is_moderation=True, mark=2.5, justification="Harmonisation."))
                lot.awarded_bid_id = bid.id
        lot.status, lot.crefop_opinion, lot.crefop_date = "ATTRIBUE", "FAVORABLE", date(2026, 6, 1)
        for e in evaluators:
            db.session.add(EvaluatorAssignment(lot_id=lot.id, user_id=e))
    db.session.commit()
    return tender


def measure(client, url):
    client.get(url)
    with count_statements() as statements:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - started
    assert response.status_code == 200, url
    return len(statements), elapsed


@pytest.mark.parametrize("name", list(PAGES))
def test_tender_pages_do_not_grow_with_bids(app, accounts, client_for, name):
    small_tender = build(accounts, 2, "AO-Q-1")
    large_tender = build(accounts, 10, "AO-Q-2")
    client = client_for("acheteur")
    small, _ = measure(client, PAGES[name](small_tender))
    large, elapsed = measure(client, PAGES[name](large_tender))
    print(f"[requêtes SQL] {name}: 2 offres/lot {small}, 10 offres/lot {large} ({elapsed:.2f} s)")
    assert large <= small, f"{name}: {small} requêtes avec 2 offres par lot, {large} avec 10 (N+1 ?)"
    # The time for 18 lots x 10 bids is printed here and measured by bench/ (docs/performance.md).
