"""Sealed bids: before the deadline nobody but the bidding operator reads anything
of a bid (not even names or sizes of its documents); after it, nothing changes."""
from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from platform_core.extensions import db
from platform_core.models import JournalEntry
from tenders.models import Bid, Tender
from tenders.services import close_due_tenders
from tests.conftest import page
from tests.functional.tenders_support import (DOCS, bid_form, create_published_tender, lot_of_region,
                                              start_bid, travel_after, upload)

def _readable(response) -> str:
    """Text of a response, xlsx included (every cell of every sheet)."""
    if response.mimetype.endswith("spreadsheetml.sheet"):
        from io import BytesIO

        from openpyxl import load_workbook
        wb = load_workbook(BytesIO(response.data), read_only=True)
        return " ".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row)
    return html.unescape(response.get_data(as_text=True))


OTHERS = ["admin", "acheteur", "evaluateur", "auditeur", "operateur_b", "observateur", "observateur_bretagne"]


@pytest.fixture
def sealed(client_for, accounts):
    acheteur = client_for("acheteur")
    tender = create_published_tender(acheteur)
    lot = lot_of_region(tender, "53")
    op = client_for("operateur")
    bid = start_bid(op, lot)
    upload(op, bid.id, DOCS[0], name="memoire-confidentiel-xyz.pdf")
    form = bid_form(prix_annuel_eur="1234567")
    db.session.expire_all()
    form["version"] = str(db.session.get(Bid, bid.id).version)
    assert op.post(f"/appels-offres/offres/{bid.id}", data=form).status_code == 302
    # An evaluator assigned and declared before the deadline still sees nothing.
    acheteur.post(f"/appels-offres/lots/{lot.id}/evaluateurs", data={"user_id": accounts["evaluateur"]})
    client_for("evaluateur").post(f"/appels-offres/lots/{lot.id}/declaration", data={"absence_conflit": "oui"})
    db.session.expire_all()
    bid = db.session.get(Bid, bid.id)
    return tender, lot, bid, op


def test_nobody_else_reads_a_sealed_bid(sealed, client_for):
    tender, lot, bid, op = sealed
    assert bid.status == "DEPOSEE"
    doc = bid.documents[0]
    secrets = ["Opérateur A", "memoire-confidentiel-xyz", doc.stored_file.sha256, "1234567", "1 234 567",
               str(doc.stored_file.size) + " octets"]
    urls = [f"/appels-offres/offres/{bid.id}", f"/appels-offres/offres/{bid.id}/recepisse",
            f"/appels-offres/offres/{bid.id}/documents/{doc.id}", f"/appels-offres/lots/{lot.id}",
            f"/appels-offres/{tender.id}", f"/appels-offres/{tender.id}/rapport",
            f"/appels-offres/{tender.id}/rapport.xlsx", f"/appels-offres/{tender.id}/ocds.json",
            f"/appels-offres/{tender.id}/resultats", "/journal/", "/journal/export.xlsx", "/tableau-de-bord"]
    for who in OTHERS:
        c = client_for(who)
        for url in urls:
            r = c.get(url)
            text = _readable(r)
            for s in secrets:
                assert s not in text, f"{who} {url} leaks {s!r}"
            if "/offres/" in url:
                assert r.status_code in (403, 404), (who, url, r.status_code)
            if url.endswith(("rapport", "rapport.xlsx")):
                assert r.status_code in (403, 404), (who, url, r.status_code)
    # The officer sees how many bids, not who.
    text = page(client_for("acheteur").get(f"/appels-offres/lots/{lot.id}"))
    assert "Offres déposées sur ce lot : 1" in text, text[text.find("<main"):text.find("<main") + 1500]
    # The owner reads everything.
    assert "memoire-confidentiel-xyz" in page(op.get(f"/appels-offres/offres/{bid.id}"))
    assert op.get(f"/appels-offres/offres/{bid.id}/documents/{doc.id}").status_code == 200


def test_journal_entries_sealed_until_deadline(sealed, client_for):
    tender, lot, bid, op = sealed
    entries = db.session.scalars(select(JournalEntry).where(JournalEntry.object_type == "offre")).all()
    assert entries and all(e.sealed_until == tender.submission_deadline for e in entries)


def test_frozen_after_deadline(sealed, client_for):
    tender, lot, bid, op = sealed
    with travel_after(tender):
        op = client_for("operateur")
        form = bid_form(prix_annuel_eur="999")
        form["version"] = str(bid.version)
        assert op.post(f"/appels-offres/offres/{bid.id}", data=form).status_code == 409
        assert upload(op, bid.id, DOCS[1]).status_code == 409
        assert op.post(f"/appels-offres/offres/{bid.id}/retirer").status_code == 409
        assert op.post(f"/appels-offres/offres/{bid.id}/documents/{bid.documents[0].id}/supprimer").status_code == 409
        db.session.expire_all()
        b = db.session.get(Bid, bid.id)
        assert b.answers["prix_annuel_eur"] == 1234567 and b.status == "DEPOSEE" and len(b.documents) == 1
        # The state follows the clock without any job; the officer now reads the count page, then opens.
        t = db.session.get(Tender, tender.id)
        assert t.effective_status() == "CLOTUREE"
        assert "Opérateur A" not in page(client_for("acheteur").get(f"/appels-offres/lots/{lot.id}"))


def test_submission_one_second_after_deadline_refused(client_for, accounts):
    tender = create_published_tender(client_for("acheteur"))
    lot = lot_of_region(tender, "53")
    op = client_for("operateur")
    bid = start_bid(op, lot)
    with travel_after(tender, timedelta(seconds=1)):
        form = bid_form()
        form["version"] = str(bid.version)
        r = client_for("operateur").post(f"/appels-offres/offres/{bid.id}", data=form)
        assert r.status_code == 409
        db.session.expire_all()
        assert db.session.get(Bid, bid.id).status == "BROUILLON"


def test_closing_job_is_idempotent(client_for, accounts):
    tender = create_published_tender(client_for("acheteur"))
    at = tender.submission_deadline + timedelta(minutes=1)
    assert close_due_tenders(tender.submission_deadline - timedelta(seconds=1)) == {"cloturees": 0}
    assert close_due_tenders(at) == {"cloturees": 1}
    assert close_due_tenders(at) == {"cloturees": 0}
    n = db.session.scalar(select(func.count()).select_from(JournalEntry)
                          .where(JournalEntry.action == "consultation_cloturee"))
    assert n == 1


def test_other_operator_gets_404(sealed, client_for):
    tender, lot, bid, op = sealed
    b = client_for("operateur_b")
    assert b.get(f"/appels-offres/offres/{bid.id}").status_code == 404
    assert b.post(f"/appels-offres/offres/{bid.id}/retirer").status_code == 404
    assert upload(b, bid.id, DOCS[1]).status_code == 404
