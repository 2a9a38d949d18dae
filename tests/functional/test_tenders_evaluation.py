"""Evaluators: assigned lots only, declaration first, others' marks only after
submitting one's own; questions answered anonymously; dashboards; observers' scope."""
from __future__ import annotations

from sqlalchemy import select

from platform_core.extensions import db
from platform_core.models import User, UserRole
from tenders.models import EvaluatorAssignment, TenderQuestion
from tests.conftest import FormClient, login, page
from tests.functional.tenders_support import create_published_tender, lot_of_region, tender_in_db


def _second_evaluator(app, password_hash) -> int:
    u = User(email="evaluateur2@test.example.fr", full_name="Test evaluateur2", password_hash=password_hash,
             must_change_password=False, roles=[UserRole(role="evaluateur")])
    db.session.add(u)
    db.session.commit()
    return u.id


def test_marks_visibility_and_assignment(app, client_for, accounts, password_hash):
    orgs = accounts["_orgs"]
    ev2_id = _second_evaluator(app, password_hash)
    tender = tender_in_db(manual=True, bids=[(orgs["op_a"], "53", {}), (orgs["op_b"], "53", {"prix_annuel_eur": 1500000})])
    lot = lot_of_region(tender, "53")
    other_lot = lot_of_region(tender, "52")
    bids = [b.id for b in lot.bids]
    ev1 = client_for("evaluateur")
    app.test_client_class = FormClient
    ev2 = app.test_client()
    login(ev2, "evaluateur2")
    # Not assigned: 404, and the tender is not even listed.
    assert ev1.get(f"/appels-offres/lots/{lot.id}").status_code == 404
    acheteur = client_for("acheteur")
    for uid in (accounts["evaluateur"], ev2_id):
        acheteur.post(f"/appels-offres/lots/{lot.id}/evaluateurs", data={"user_id": uid})
    assert ev1.get(f"/appels-offres/lots/{other_lot.id}").status_code == 404
    assert "Opérateur A" not in page(ev1.get(f"/appels-offres/lots/{lot.id}"))
    for c in (ev1, ev2):
        c.post(f"/appels-offres/lots/{lot.id}/declaration", data={"absence_conflit": "oui"})

    def marks(value, text):
        data = {}
        for b in bids:
            data.update({f"mark_{b}_METHODO": value, f"just_{b}_METHODO": text, f"version_{b}_METHODO": "0"})
        return data

    # Missing justification or a mark out of 0–4: refused, nothing saved.
    r = ev1.post(f"/appels-offres/lots/{lot.id}/notes", data=marks("3", ""), follow_redirects=True)
    assert "justification est obligatoire" in page(r)
    r = ev1.post(f"/appels-offres/lots/{lot.id}/notes", data=marks("5", "x"), follow_redirects=True)
    assert "note de 0 à 4 attendue" in page(r)
    ev1.post(f"/appels-offres/lots/{lot.id}/notes", data=marks("3", "Justification de Chloé"))
    ev2.post(f"/appels-offres/lots/{lot.id}/notes", data=marks("1", "Justification de Damien"))
    ev2.post(f"/appels-offres/lots/{lot.id}/notes/soumettre")
    # ev1 has not submitted: does not see ev2's marks; the officer sees submitted ones only.
    assert "Justification de Damien" not in page(ev1.get(f"/appels-offres/lots/{lot.id}"))
    officer_view = page(acheteur.get(f"/appels-offres/lots/{lot.id}"))
    assert "Justification de Damien" in officer_view and "Justification de Chloé" not in officer_view
    ev1.post(f"/appels-offres/lots/{lot.id}/notes/soumettre")
    assert "Justification de Damien" in page(ev1.get(f"/appels-offres/lots/{lot.id}"))
    assert db.session.scalar(select(EvaluatorAssignment.marks_submitted_at).where(
        EvaluatorAssignment.user_id == accounts["evaluateur"])) is not None
    # Two officers moderating the same mark: the second (stale version) is refused.
    a2 = client_for("admin")
    r1 = acheteur.post(f"/appels-offres/offres/{bids[0]}/moderation",
                       data={"criterion": "METHODO", "mark": "2", "reason": "Écart trop fort.", "version": "0"})
    r2 = a2.post(f"/appels-offres/offres/{bids[0]}/moderation",
                 data={"criterion": "METHODO", "mark": "4", "reason": "Autre avis.", "version": "0"},
                 follow_redirects=True)
    assert r1.status_code == 302 and "modifiée entre-temps" in page(r2)


def test_questions_are_answered_anonymously(client_for):
    tender = create_published_tender(client_for("acheteur"))
    client_for("operateur").post(f"/appels-offres/{tender.id}/questions", data={"question": "Quel format pour le DUME ?"})
    q = db.session.scalar(select(TenderQuestion))
    other = client_for("operateur_b")
    assert "Quel format" not in page(other.get(f"/appels-offres/{tender.id}"))
    client_for("acheteur").post(f"/appels-offres/questions/{q.id}/repondre", data={"answer": "Le DUME électronique."})
    text = page(other.get(f"/appels-offres/{tender.id}"))
    assert "Quel format pour le DUME ?" in text and "Le DUME électronique." in text
    assert "Opérateur A" not in text and "Test operateur" not in text.replace("Test operateur_b", "")


def test_dashboards(client_for, accounts):
    tender = create_published_tender(client_for("acheteur"))
    op = client_for("operateur")
    op.post(f"/appels-offres/lots/{lot_of_region(tender, '53').id}/offre")
    text = page(op.get("/tableau-de-bord"))
    assert "Consultations ouvertes aux offres" in text and "Offres en brouillon non déposées" in text
    tender_in_db(status="PUBLIEE", reference="AO-CLOSED")
    assert "Consultations à ouvrir" in page(client_for("acheteur").get("/tableau-de-bord"))


def test_observer_sees_results_of_its_region(client_for, accounts):
    orgs = accounts["_orgs"]
    tender = tender_in_db(status="ATTRIBUEE", bids=[(orgs["op_a"], "53", {}), (orgs["op_b"], "52", {})])
    for lot in tender.lots:
        if lot.bids:
            lot.status, lot.awarded_bid_id = "ATTRIBUE", lot.bids[0].id
    db.session.commit()
    national = page(client_for("observateur").get(f"/appels-offres/{tender.id}/resultats"))
    assert "Opérateur A" in national and "Opérateur B" in national
    brittany = page(client_for("observateur_bretagne").get(f"/appels-offres/{tender.id}/resultats"))
    assert "Opérateur A" in brittany and "Opérateur B" not in brittany
