"""The journal: one writer, append-only, filterable, exportable."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from platform_core import journal
from platform_core.clock import now
from platform_core.extensions import db
from platform_core.journal import JournalIsAppendOnly
from platform_core.models import JournalEntry


def test_entries_cannot_be_updated_or_deleted_through_the_app(app, accounts):
    entry = journal.record("essai", "test", 1, "créée")
    db.session.commit()
    entry.summary = "modifiée"
    with pytest.raises(JournalIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(JournalEntry, entry.id))
    with pytest.raises(JournalIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(JournalEntry, entry.id).summary == "créée"


def test_filter_and_export(client_for, accounts):
    journal.record("offre_test", "objet_a", 7, "=HYPERLINK(\"http://x\")", after={"etat": "publiée"})
    journal.record("autre", "objet_b", 8, "autre chose")
    journal.record("scellee", "offre", 9, "offre scellée", sealed_until=now() + timedelta(days=3))
    db.session.commit()
    c = client_for("acheteur")
    page = c.get("/journal/?objet=objet_a").get_data(as_text=True)
    assert "offre_test" in page and "autre chose" not in page
    assert "offre scellée" not in c.get("/journal/").get_data(as_text=True)
    bad = c.get("/journal/?du=31-12-2024").get_data(as_text=True)
    assert "format attendu AAAA-MM-JJ" in bad
    export = c.get("/journal/export.xlsx?objet=objet_a")
    assert export.status_code == 200
    ws = load_workbook(io.BytesIO(export.data))["Journal"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "n°" and len(rows) == 2
    assert rows[1][6].startswith("'=")  # formula neutralised
    assert "etat = publiée" in rows[1][8]


def test_operators_cannot_read_the_journal(client_for, accounts):
    assert client_for("operateur").get("/journal/").status_code == 403
