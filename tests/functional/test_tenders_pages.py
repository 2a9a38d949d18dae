"""Officer set-up pages render, edit a draft, import département weights from a
real xlsx, and publication freezes everything."""
from __future__ import annotations

import io

from openpyxl import Workbook
from sqlalchemy import select

from platform_core.extensions import db
from tenders.models import Tender
from tests.conftest import page
from tests.functional.tenders_support import lot_of_region, tender_form


def _xlsx(rows) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_set_up_pages_and_freeze(client_for):
    c = client_for("acheteur")
    text = page(c.get("/appels-offres/nouveau"))
    assert "Mémoire technique" in text and 'value="30"' in text
    c.post("/appels-offres/nouveau", data=tender_form())
    tender = db.session.scalar(select(Tender))
    assert "Lot 8 — Bretagne" in page(c.get(f"/appels-offres/{tender.id}/lots"))
    r = c.post(f"/appels-offres/{tender.id}/modifier", data=tender_form(title="Titre modifié"))
    assert r.status_code == 302
    assert "Titre modifié" in page(c.get(f"/appels-offres/{tender.id}"))
    assert "Simulation" in page(c.get(f"/appels-offres/simulation?consultation={tender.id}"))
    lot = lot_of_region(tender, "53")
    data = _xlsx([["département", "poids"], ["35", 3], ["22", 1], ["29", 1], ["56", 1]])
    r = c.post(f"/appels-offres/lots/{lot.id}/poids-xlsx", data={"fichier": (io.BytesIO(data), "poids.xlsx")},
               content_type="multipart/form-data")
    assert r.status_code == 302
    db.session.expire_all()
    assert lot_of_region(db.session.get(Tender, tender.id), "53").departement_weights == {
        "35": 3.0, "22": 1.0, "29": 1.0, "56": 1.0}
    bad = _xlsx([["75", 1]])
    r = c.post(f"/appels-offres/lots/{lot.id}/poids-xlsx", data={"fichier": (io.BytesIO(bad), "poids.xlsx")},
               content_type="multipart/form-data", follow_redirects=True)
    assert "n'appartient pas au lot" in page(r)
    assert c.post(f"/appels-offres/{tender.id}/publier").status_code == 302
    # Frozen: editing the tender or its lots is refused, nothing changes.
    r = c.post(f"/appels-offres/{tender.id}/modifier", data=tender_form(title="Trop tard"), follow_redirects=True)
    assert "figés" in page(r)
    db.session.expire_all()
    assert db.session.get(Tender, tender.id).title == "Titre modifié"
    r = c.post(f"/appels-offres/{tender.id}/annuler", data={"reason": ""}, follow_redirects=True)
    assert "motif est obligatoire" in page(r)
    c.post(f"/appels-offres/{tender.id}/annuler", data={"reason": "Erreur de périmètre."})
    db.session.expire_all()
    assert db.session.get(Tender, tender.id).status == "ANNULEE"
    # Drafts are invisible to operators.
    c.post("/appels-offres/nouveau", data=tender_form(reference="AO-BROUILLON"))
    draft = db.session.scalar(select(Tender).where(Tender.reference == "AO-BROUILLON"))
    assert client_for("operateur").get(f"/appels-offres/{draft.id}").status_code == 404
    assert "AO-BROUILLON" not in page(client_for("observateur").get("/appels-offres/"))
