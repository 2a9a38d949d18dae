"""Payments: form, xlsx import (all or nothing), reversal; never edited; journaled."""
from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from audit.fund_use.models import Payment, PaymentIsImmutable
from platform_core.extensions import db
from platform_core.models import JournalEntry
from tests.conftest import page
from tests.functional.test_fund_use_pages import make_contract

BASE = "/suivi/usage-des-fonds"


@pytest.fixture
def contracts(app, accounts):
    orgs = accounts["_orgs"]
    active = make_contract(orgs["op_a"], "CEP-A", "53", 100000, 1000)
    ended = make_contract(orgs["op_b"], "CEP-FINI", "52", 50000, 500, status="TERMINE",
                          ends=date(2024, 12, 31))
    short = make_contract(orgs["op_b"], "CEP-COURT", "52", 50000, 500, ends=date(2024, 12, 31))
    db.session.commit()
    return {"active": active.id, "ended": ended.id, "short": short.id}


def count_payments() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Payment.id)))


def form(**over):
    data = {"paid_on": "2024-03-28", "amount": "20000.00", "kind": "FIXE", "year": "2024",
            "reference": "MANDAT-1"}
    data.update(over)
    return data


def test_record_a_payment_by_form_is_journaled(client_for, contracts):
    c = client_for("acheteur")
    r = c.post(f"{BASE}/contrat/{contracts['active']}/paiements/nouveau", data=form())
    assert r.status_code == 302
    db.session.expire_all()
    p = db.session.scalar(select(Payment))
    assert (p.amount, p.kind, p.year, p.paid_on) == (Decimal("20000.00"), "FIXE", 2024, date(2024, 3, 28))
    assert p.recorded_by.email == "acheteur@test.example.fr"
    entry = db.session.scalar(select(JournalEntry).where(JournalEntry.action == "paiement_enregistre"))
    assert entry.object_id == str(p.id) and "CEP-A" in entry.summary
    assert entry.after["montant"] == "20000.00"


@pytest.mark.parametrize("contract_key, over, message", [
    ("active", {"amount": "-100"}, "strictement positif"),
    ("active", {"amount": "0", "kind": "VARIABLE"}, "strictement positif"),
    ("active", {"amount": "0", "kind": "REGULARISATION"}, "régularisation de 0 €"),
    ("active", {"amount": "12.345"}, None),
    ("active", {"kind": "BONUS"}, None),
    ("active", {"paid_on": "31/02/2024"}, "Date"),
    ("active", {"paid_on": "2099-01-01"}, "dans le futur"),
    ("active", {"year": "2031"}, "ne couvre pas l'année 2031"),
    ("ended", {}, "terminé"),
    ("short", {"paid_on": "2025-01-15"}, "après la fin du contrat"),
])
def test_bad_payment_is_refused_in_french_and_nothing_stored(client_for, contracts,
                                                             contract_key, over, message):
    r = client_for("acheteur").post(
        f"{BASE}/contrat/{contracts[contract_key]}/paiements/nouveau", data=form(**over))
    assert r.status_code == 400
    text = page(r)
    assert "rien n'a été enregistré" in text.lower()
    if message:
        assert message in text
    assert count_payments() == 0


def test_payment_for_unknown_contract_is_404(client_for, contracts):
    r = client_for("acheteur").post(f"{BASE}/contrat/999999/paiements/nouveau", data=form())
    assert r.status_code == 404
    assert count_payments() == 0


def test_only_officers_record_payments(client_for, contracts):
    for role in ("operateur", "observateur", "auditeur", "evaluateur"):
        r = client_for(role).post(f"{BASE}/contrat/{contracts['active']}/paiements/nouveau",
                                  data=form())
        assert r.status_code == 403, role
    assert count_payments() == 0


def test_payment_is_never_edited_only_reversed(app, client_for, contracts):
    # no route edits or deletes a payment
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("audit.fund_use."):
            assert not ({"PUT", "PATCH", "DELETE"} & rule.methods), rule
            assert "modifier" not in rule.rule and "supprimer" not in rule.rule
    c = client_for("acheteur")
    c.post(f"{BASE}/contrat/{contracts['active']}/paiements/nouveau", data=form(amount="5000"))
    db.session.expire_all()
    original = db.session.scalar(select(Payment))
    r = c.post(f"{BASE}/paiements/{original.id}/annuler", data={"reference": "ERREUR"})
    assert r.status_code == 302
    db.session.expire_all()
    rows = db.session.scalars(select(Payment).order_by(Payment.id)).all()
    assert len(rows) == 2
    assert rows[0].amount == Decimal("5000.00")            # untouched
    reversal = rows[1]
    assert reversal.kind == "REGULARISATION" and reversal.amount == Decimal("-5000.00")
    assert reversal.reverses_payment_id == original.id and reversal.year == 2024
    # reversing twice, or reversing the reversal, is refused
    c.post(f"{BASE}/paiements/{original.id}/annuler", data={})
    c.post(f"{BASE}/paiements/{reversal.id}/annuler", data={})
    assert count_payments() == 2
    # and the model itself refuses an update or a delete
    p = db.session.get(Payment, original.id)
    p.amount = Decimal("1")
    with pytest.raises(PaymentIsImmutable):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(Payment, original.id))
    with pytest.raises(PaymentIsImmutable):
        db.session.flush()
    db.session.rollback()
    # the contract page and the payments list show the reversal
    text = page(c.get(f"{BASE}/contrat/{contracts['active']}?annee=2024"))
    assert f"annule n° {original.id}" in text
    text = page(c.get(f"{BASE}/paiements"))
    assert "annulé" in text and f"annule n° {original.id}" in text


def test_french_amount_format_is_accepted(client_for, contracts):
    r = client_for("acheteur").post(f"{BASE}/contrat/{contracts['active']}/paiements/nouveau",
                                    data=form(amount="20 000,50"))
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Payment.amount)) == Decimal("20000.50")


# ------------------------------------------------------------------ import

def xlsx(rows, headers=("contrat", "date", "montant", "nature", "reference", "annee")) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Paiements"
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(client, data: bytes, name="paiements.xlsx"):
    return client.post(f"{BASE}/paiements/import",
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_import_good_file_stores_every_row(client_for, contracts):
    data = xlsx([
        ["CEP-A", datetime(2024, 3, 28), 20000, "FIXE", "M-1", 2024],
        ["CEP-A", "28/06/2024", "20 000,50", "fixe", "M-2", 2024],
        ["CEP-A", "2024-09-30", -500, "REGULARISATION", "", 2024],
        [None, None, None, None, None, None],   # blank line ignored
    ])
    r = upload(client_for("acheteur"), data)
    assert r.status_code == 302, page(r)
    db.session.expire_all()
    amounts = [p.amount for p in db.session.scalars(select(Payment).order_by(Payment.id))]
    assert amounts == [Decimal("20000.00"), Decimal("20000.50"), Decimal("-500.00")]
    actions = db.session.scalars(select(JournalEntry.action)).all()
    assert actions.count("paiement_enregistre") == 3 and "paiements_importes" in actions


def test_import_with_a_bad_row_stores_nothing_and_reports_each_row(client_for, contracts):
    data = xlsx([
        ["CEP-A", "28/03/2024", 20000, "FIXE", "M-1", 2024],          # fine
        ["CEP-INCONNU", "28/03/2024", 100, "FIXE", "", 2024],         # row 3
        ["CEP-A", "32/13/2024", 100, "FIXE", "", 2024],               # row 4
        ["CEP-A", "28/03/2024", 0, "VARIABLE", "", 2024],             # row 5
        ["CEP-A", "28/03/2024", 100, "PRIME", "", 2024],              # row 6
        ["CEP-FINI", "28/03/2024", 100, "FIXE", "", 2024],            # row 7
        ["CEP-COURT", "15/01/2025", 100, "FIXE", "", 2024],           # row 8
        ["CEP-A", "28/03/2024", "beaucoup", "FIXE", "", 2024],        # row 9
    ])
    r = upload(client_for("acheteur"), data)
    assert r.status_code == 400
    text = page(r)
    assert "aucun paiement n'a été enregistré" in text
    assert count_payments() == 0
    for fragment in ("Contrat « CEP-INCONNU » inconnu", "Date de paiement absente ou invalide",
                     "strictement positif", "Nature inconnue « PRIME »", "terminé",
                     "après la fin du contrat", "Montant absent ou invalide"):
        assert fragment in text, fragment
    from audit.fund_use.payment_import import check_payments_file

    problems = check_payments_file(data).problems
    assert {(p.row, p.column) for p in problems} >= {
        (3, "contrat"), (4, "date"), (5, "montant"), (6, "nature"), (7, "contrat"),
        (8, "date"), (9, "montant")}
    assert next(p for p in problems if p.row == 4).value == "32/13/2024"


def test_import_refuses_missing_columns_and_non_xlsx(client_for, contracts):
    c = client_for("acheteur")
    r = upload(c, xlsx([["CEP-A", "28/03/2024", 1]], headers=("contrat", "date", "montant")))
    assert r.status_code == 400 and "Colonne(s) obligatoire(s) absente(s) : nature, annee" in page(r)
    r = upload(c, b"%PDF-1.4 not a spreadsheet", name="paiements.xlsx")
    assert r.status_code == 400 and "Type de fichier non accepté" in page(r)
    r = upload(c, xlsx([]))
    assert r.status_code == 400 and "aucun paiement" in page(r)
    assert count_payments() == 0


def test_importing_the_same_file_twice_pays_once(client_for, contracts):
    data = xlsx([["CEP-A", "28/03/2024", 20000, "FIXE", "M-1", 2024],
                 ["CEP-A", "28/06/2024", 20000, "FIXE", "M-2", 2024]])
    c = client_for("acheteur")
    assert upload(c, data).status_code == 302
    r = upload(c, data)
    assert r.status_code == 400 and "déjà enregistré" in page(r)
    assert count_payments() == 2
    twice = xlsx([["CEP-A", "28/09/2024", 100, "FIXE", "M-3", 2024],
                  ["CEP-A", "28/09/2024", 100, "FIXE", "M-3", 2024]])
    r = upload(c, twice)
    assert r.status_code == 400 and "Ligne identique à la ligne 2" in page(r)
    assert count_payments() == 2
