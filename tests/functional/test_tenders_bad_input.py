"""Bad input: a French message naming the field, nothing stored."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from platform_core.extensions import db
from tenders.models import Bid, BidDocument, Tender
from tests.conftest import page
from tests.functional.tenders_support import (DOCS, bid_form, create_published_tender, lot_of_region, start_bid,
                                              tender_form, upload)


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_weights_must_sum_to_100(client_for):
    r = client_for("acheteur").post("/appels-offres/nouveau", data=tender_form(weight_PRIX="14"))
    assert r.status_code == 200
    assert "La somme des poids doit être égale à 100" in page(r)
    assert _count(Tender) == 0


def test_calendar_and_unknown_departement_weight(client_for):
    acheteur = client_for("acheteur")
    r = acheteur.post("/appels-offres/nouveau", data=tender_form(submission_deadline="2020-01-01T10:00"))
    assert "Calendrier" in page(r) and _count(Tender) == 0
    acheteur.post("/appels-offres/nouveau", data=tender_form())
    tender = db.session.scalar(select(Tender))
    lot = lot_of_region(tender, "53")
    form = {}
    for l in tender.lots:
        p = f"lot_{l.id}_"
        form.update({p + "title": l.title, p + "regions": ",".join(l.region_codes), p + "demand": "5000"})
    form[f"lot_{lot.id}_weights"] = "35=2, 99=1"
    r = acheteur.post(f"/appels-offres/{tender.id}/lots", data=form)
    assert "département inconnu « 99 »" in page(r)
    db.session.expire_all()
    assert db.session.get(Tender, tender.id).lots[7].departement_weights is None
    # Grouping two regions into one lot and removing the other, then valid weights.
    other = lot_of_region(tender, "52")
    form[f"lot_{lot.id}_regions"] = "53, 52"
    form[f"lot_{lot.id}_weights"] = "35=2, 22=1, 44=1"
    form[f"lot_{other.id}_remove"] = "oui"
    r = acheteur.post(f"/appels-offres/{tender.id}/lots", data=form)
    assert r.status_code == 302
    db.session.expire_all()
    t = db.session.get(Tender, tender.id)
    assert len(t.lots) == 17
    grouped = next(l for l in t.lots if l.id == lot.id)
    assert grouped.region_codes == ["53", "52"] and grouped.departement_weights["35"] == 2


def test_bid_bad_values_are_refused(client_for, app):
    tender = create_published_tender(client_for("acheteur"))
    op = client_for("operateur")
    bid = start_bid(op, lot_of_region(tender, "53"))
    cases = [({"capacite_annuelle": "-5"}, "Capacité annuelle"),
             ({"site_0_departement": "99"}, "département inconnu « 99 »"),
             ({"prix_annuel_eur": "0"}, "Prix annuel (€) : un nombre > 0 attendu"),
             ({"nb_conseillers_qualifies": "40"}, "Conseillers qualifiés")]
    for over, message in cases:
        form = bid_form(**over)
        form["version"] = str(bid.version)
        r = op.post(f"/appels-offres/offres/{bid.id}", data=form)
        assert r.status_code == 200 and message in page(r), over
        assert "Rien n'a été enregistré" in page(r)
        db.session.expire_all()
        b = db.session.get(Bid, bid.id)
        assert b.answers == {} and b.status == "BROUILLON"


def test_bad_documents_are_refused(client_for, app):
    tender = create_published_tender(client_for("acheteur"))
    op = client_for("operateur")
    bid = start_bid(op, lot_of_region(tender, "53"))
    r = op.post(f"/appels-offres/offres/{bid.id}/documents",
                data={"doc_type": DOCS[0], "fichier": (io.BytesIO(b"just some text"), "memo.pdf")},
                content_type="multipart/form-data", follow_redirects=True)
    assert "Mémoire technique" in page(r) and "Type de fichier non accepté" in page(r)
    app.config["MAX_UPLOAD_BYTES"] = 1000
    r = upload(op, bid.id, DOCS[1], data=b"%PDF-1.4\n" + b"0" * 2000)
    r = op.get(f"/appels-offres/offres/{bid.id}")
    assert "taille maximale" in page(r) and "DC1 / DUME" in page(r)
    assert _count(BidDocument) == 0


def test_unknown_question_or_lot_gets_the_french_404_page(client_for):
    officer = client_for("acheteur")
    for url in ("/appels-offres/questions/999999/repondre", "/appels-offres/lots/999999/poids-xlsx"):
        response = officer.post(url, data={})
        assert response.status_code == 404 and "Page introuvable" in page(response)
