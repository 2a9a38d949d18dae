"""The whole call for tenders through real HTTP: create → publish → bid → deadline
→ open → admissibility → marks → moderation → rank → CREFOP → award → Contract."""
from __future__ import annotations

from sqlalchemy import select

from platform_core.extensions import db
from platform_core.models import JournalEntry
from quality_framework import scoring
from tenders.models import Bid, Contract, ManualMark, Tender
from tenders.services import bid_answers, lot_spec, tender_params
from tests.conftest import page
from tests.functional.tenders_support import (create_published_tender, full_bid, lot_of_region, travel_after)


def test_full_lifecycle(client_for, accounts):
    acheteur = client_for("acheteur")
    tender = create_published_tender(acheteur)
    assert len(tender.lots) == 18
    lot = lot_of_region(tender, "53")
    op_a, op_b = client_for("operateur"), client_for("operateur_b")
    bid_a = full_bid(op_a, lot)
    bid_b = full_bid(op_b, lot, capacite_annuelle="4200", etp_conseillers="20", prix_annuel_eur="2300000",
                     site_1_commune="Saint-Brieuc", site_1_departement="22", site_1_type="PERMANENCE",
                     canaux_distance=["TELEPHONE", "VISIO", "WEB"])
    assert bid_a.status == bid_b.status == "DEPOSEE"
    receipt = page(op_a.get(f"/appels-offres/offres/{bid_a.id}/recepisse"))
    for d in bid_a.documents:
        assert d.stored_file.sha256 in receipt
    # The officer only sees how many bids exist.
    show = page(acheteur.get(f"/appels-offres/{tender.id}"))
    assert "Opérateur A" not in show and "Opérateur B" not in show
    tender_id, lot_id = tender.id, lot.id

    with travel_after(tender):
        acheteur, evaluateur = client_for("acheteur"), client_for("evaluateur")
        assert "clôturée" in page(acheteur.get(f"/appels-offres/{tender_id}"))
        assert acheteur.post(f"/appels-offres/{tender_id}/ouvrir").status_code == 302
        db.session.expire_all()
        tender = db.session.get(Tender, tender_id)
        assert tender.status == "OUVERTE"
        for bid in (bid_a, bid_b):
            r = acheteur.post(f"/appels-offres/offres/{bid.id}/recevabilite",
                              data={"verdict": "admissible", "reason": "Pièces complètes, verdict confirmé."})
            assert r.status_code == 302
        acheteur.post(f"/appels-offres/lots/{lot_id}/evaluateurs", data={"user_id": accounts["evaluateur"]})
        # Before the declaration the evaluator sees no bid.
        before = page(evaluateur.get(f"/appels-offres/lots/{lot_id}"))
        assert "Opérateur A" not in before and "conflit d'intérêts" in before
        evaluateur.post(f"/appels-offres/lots/{lot_id}/declaration", data={"absence_conflit": "oui"})
        assert acheteur.post(f"/appels-offres/{tender_id}/evaluation").status_code == 302
        db.session.expire_all()
        assert db.session.get(Tender, tender_id).status == "EN_EVALUATION"

        marks = {f"mark_{bid_a.id}_METHODO": "3", f"just_{bid_a.id}_METHODO": "Méthode solide.",
                 f"version_{bid_a.id}_METHODO": "0",
                 f"mark_{bid_b.id}_METHODO": "2", f"just_{bid_b.id}_METHODO": "Méthode floue.",
                 f"version_{bid_b.id}_METHODO": "0"}
        evaluateur.post(f"/appels-offres/lots/{lot_id}/notes", data=marks)
        # Same form sent again from a stale tab: refused, nothing overwritten.
        stale = dict(marks, **{f"mark_{bid_a.id}_METHODO": "1"})
        r = evaluateur.post(f"/appels-offres/lots/{lot_id}/notes", data=stale, follow_redirects=True)
        assert "modifiée entre-temps" in page(r)
        db.session.expire_all()
        assert db.session.scalar(select(ManualMark.mark).where(ManualMark.bid_id == bid_a.id)) == 3
        evaluateur.post(f"/appels-offres/lots/{lot_id}/notes/soumettre")
        r = acheteur.post(f"/appels-offres/offres/{bid_b.id}/moderation",
                          data={"criterion": "METHODO", "mark": "2.5", "reason": "Harmonisation.", "version": "0"})
        assert r.status_code == 302

        # The lot page shows the formulas exactly as quality_framework computes them.
        db.session.expire_all()
        tender = db.session.get(Tender, tender_id)
        lot = next(l for l in tender.lots if l.id == lot_id)
        qbids = [scoring.Bid(str(b.id), bid_answers(b), b.submitted_at, True,
                             {"METHODO": scoring.ManualScore((m,), mod)})
                 for b, m, mod in ((db.session.get(Bid, bid_a.id), 3, None), (db.session.get(Bid, bid_b.id), 2, 2.5))]
        expected = scoring.rank_bids(qbids, lot_spec(lot), tender.weights, tender_params(tender))
        text = page(acheteur.get(f"/appels-offres/lots/{lot_id}"))
        for r in expected:
            for name, e in r.score.explanations.items():
                assert e.formula in text, name
            assert scoring.fmt(round(r.score.total, 2)).replace(".", ",") in text or f"{r.score.total:.2f}".replace(".", ",") in text

        assert acheteur.post(f"/appels-offres/lots/{lot_id}/classer").status_code == 302
        db.session.expire_all()
        winner_id = int(expected[0].bid.id)
        assert db.session.get(Bid, winner_id).final_rank == 1
        r = acheteur.post(f"/appels-offres/lots/{lot_id}/attribution",
                          data={"opinion": "FAVORABLE", "opinion_date": "2026-12-01",
                                "opinion_text": "Avis favorable du bureau.", "decision": "Attribution."})
        assert r.status_code == 302
        db.session.expire_all()
        contract = db.session.scalar(select(Contract).where(Contract.lot_id == lot_id))
        winner = db.session.get(Bid, winner_id)
        assert contract.operator_id == winner.operator_id
        assert contract.annual_capacity == int(winner.answers["capacite_annuelle"])
        assert float(contract.annual_price) == winner.answers["prix_annuel_eur"]
        assert contract.region_code == "53" and contract.fixed_share == 0.8 and contract.variable_share == 0.2
        assert contract.starts_on.isoformat() == "2027-01-01"
        # Every transition journaled.
        actions = set(db.session.scalars(select(JournalEntry.action)).all())
        for a in ("consultation_creee", "consultation_publiee", "offre_deposee", "consultation_ouverte",
                  "recevabilite_admissible", "note_saisie", "note_moderee", "lot_classe", "lot_attribue",
                  "contrat_cree", "declaration_conflit_interets"):
            assert a in actions, a
        # Published results visible to the Brittany observer, OCDS has the award and bids.
        assert winner.operator.name in page(client_for("observateur_bretagne").get(f"/appels-offres/{tender_id}/resultats"))
        ocds = acheteur.get(f"/appels-offres/{tender_id}/ocds.json").get_json()
        release = ocds["releases"][0]
        assert release["awards"][0]["relatedLots"] == [f"lot-{lot.number}"]
        assert len(release["bids"]["details"]) == 2
