"""The history page of one manual mark: built from the journal (author, date, before →
after, justification), linked from the lot page, with the lot page's visibility rules."""
from __future__ import annotations

from sqlalchemy import select

from platform_core.extensions import db
from platform_core.models import User
from tenders.models import ManualMark
from tests.conftest import page
from tests.functional.tenders_support import lot_of_region, tender_in_db


def test_mark_history(app, client_for, accounts):
    orgs = accounts["_orgs"]
    tender = tender_in_db(manual=True, bids=[(orgs["op_a"], "53", {})])
    lot = lot_of_region(tender, "53")
    lot_id, bid_id = lot.id, lot.bids[0].id
    acheteur, ev = client_for("acheteur"), client_for("evaluateur")
    acheteur.post(f"/appels-offres/lots/{lot_id}/evaluateurs", data={"user_id": accounts["evaluateur"]})
    ev.post(f"/appels-offres/lots/{lot_id}/declaration", data={"absence_conflit": "oui"})

    def mark(value, text, version):
        return ev.post(f"/appels-offres/lots/{lot_id}/notes",
                       data={f"mark_{bid_id}_METHODO": value, f"just_{bid_id}_METHODO": text,
                             f"version_{bid_id}_METHODO": str(version)})

    mark("2", "Première lecture : méthodologie générique.", 0)
    mark("3,5", "Après relecture : partenariats locaux solides.", 1)
    db.session.expire_all()
    m = db.session.scalar(select(ManualMark).where(ManualMark.bid_id == bid_id))
    assert m.mark == 3.5 and m.version == 2
    url = f"/appels-offres/notes/{m.id}/historique"

    # Linked from the lot page, next to the mark.
    assert f'href="{url}"' in ev.get(f"/appels-offres/lots/{lot_id}").get_data(as_text=True)
    r = ev.get(url)
    assert r.status_code == 200
    text = page(r)
    evaluator = db.session.get(User, accounts["evaluateur"]).full_name
    assert "Après relecture" in text[:text.index("Modifications successives")]  # current mark on top
    table = text[text.index("Modifications successives"):]
    assert table.index("Première lecture") < table.index("Après relecture")  # oldest first
    assert "— (création)" in text and "2,00/4" in text and "3,50/4" in text
    # the second row shows the change: before 2/4 with its justification, after 3.5/4
    assert "2,00/4 — Première lecture : méthodologie générique." in text
    assert text.count(evaluator) >= 3  # current mark + the author of both rows

    # A draft mark is its author's: the officer sees it (and its history) once submitted.
    assert acheteur.get(url).status_code == 404
    ev.post(f"/appels-offres/lots/{lot_id}/notes/soumettre")
    assert acheteur.get(url).status_code == 200

    # The moderated mark has its own history, with the moderation motive.
    acheteur.post(f"/appels-offres/offres/{bid_id}/moderation",
                  data={"criterion": "METHODO", "mark": "3", "reason": "Harmonisation entre lots.", "version": "0"})
    db.session.expire_all()
    mod = db.session.scalar(select(ManualMark).where(ManualMark.bid_id == bid_id, ManualMark.is_moderation.is_(True)))
    mod_text = page(acheteur.get(f"/appels-offres/notes/{mod.id}/historique"))
    assert "Harmonisation entre lots." in mod_text and "3,00/4" in mod_text and "Première lecture" not in mod_text
    assert f"/appels-offres/notes/{mod.id}/historique" in acheteur.get(f"/appels-offres/lots/{lot_id}").get_data(as_text=True)

    # Outsiders: operators have no access (role), unknown mark or unassigned lot → 404.
    assert client_for("operateur").get(url).status_code == 403
    assert acheteur.get("/appels-offres/notes/999999/historique").status_code == 404
    acheteur.post(f"/appels-offres/lots/{lot_id}/evaluateurs", data={"user_id": accounts["admin"]})
    other = tender_in_db(manual=True, bids=[(orgs["op_b"], "52", {})], reference="AO-DB-2")
    other_lot = lot_of_region(other, "52")
    db.session.add(ManualMark(bid_id=other_lot.bids[0].id, criterion="METHODO", evaluator_id=accounts["admin"],
                              mark=1, justification="Note d'un autre lot."))
    db.session.commit()
    foreign = db.session.scalar(select(ManualMark).where(ManualMark.justification == "Note d'un autre lot."))
    assert ev.get(f"/appels-offres/notes/{foreign.id}/historique").status_code == 404
