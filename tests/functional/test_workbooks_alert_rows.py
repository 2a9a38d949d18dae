"""Rows behind an alert over several pages: the total counted (without sorting), the
pages in spreadsheet order, the page number clamped; on SQLite the abandon alert reads
its rows through its own index."""
from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import event, text

from audit.workbooks.models import beneficiary_rows
from platform_core.extensions import db
from quality_framework.alerts import alert_rows_select
from tests.conftest import page
from tests.functional.test_workbooks_indicators import two_contracts  # noqa: F401  (fixture)

ABANDONS = 123  # 3 pages of 50


def add_rows(version_id: int) -> None:
    """After the 6 rows of the deposited workbook (one abandon, P3): 123 abandons of 2025,
    60 other exits, 40 abandons of 2024 (outside the year) and 30 open paths."""
    base = dict(workbook_version_id=version_id, niveau_max=2, sexe="F", tranche_age="26-44", rqth="N",
                statut="CDI", csp="5", niveau_qualification="4", taille_entreprise="PE", secteur_naf="Q",
                departement="35", motif="PROJET", canal="VISIO", nb_entretiens=3, duree_heures=4.0,
                document_synthese="O", satisfaction=None)
    rows, number = [], 100
    specs = ([("ABANDON", date(2025, 3, 1))] * ABANDONS + [("PLAN_ACTION", date(2025, 4, 1))] * 60
             + [("ABANDON", date(2024, 12, 31))] * 40 + [(None, None)] * 30)
    # inserted in reverse spreadsheet order: the page must sort, the count need not
    for k, (kind, exit_on) in reversed(list(enumerate(specs))):
        rows.append({**base, "id_parcours": f"Q{k:04d}", "row_number": number + k,
                     "date_entree": date(2025, 1, 2) if exit_on is None or exit_on.year == 2025
                     else date(2024, 6, 1),
                     "date_sortie": exit_on, "type_sortie": kind})
    db.session.execute(beneficiary_rows.insert(), rows)
    db.session.commit()


def test_alert_rows_pages_and_count(client_for, two_contracts):  # noqa: F811
    version = two_contracts["va"]
    add_rows(version)
    c = client_for("acheteur")
    url = f"/suivi/bilans/alertes/{version}/taux_abandon"
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        html = page(c.get(url))
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    total = ABANDONS + 1  # + P3 of the workbook
    assert f"{total} ligne(s)" in html and "Page 1 sur 3" in html
    counts = [s for s in statements if "count(" in s.lower() and "beneficiary_rows" in s]
    assert len(counts) == 1 and "ORDER BY" not in counts[0].upper(), counts
    first = re.findall(r"<td>(P\d|Q\d{4})</td>", html)
    assert first[:3] == ["P3", "Q0000", "Q0001"] and len(first) == 50
    last = re.findall(r"<td>(P\d|Q\d{4})</td>", page(c.get(url + "?page=3")))
    assert last == [f"Q{k:04d}" for k in range(99, ABANDONS)]  # rows 100 to 124 of 124
    # beyond the last page: the last page; not a number: the first
    assert "Page 3 sur 3" in page(c.get(url + "?page=99"))
    assert "Page 1 sur 3" in page(c.get(url + "?page=abc"))


def test_abandon_rows_use_their_index(app):
    """The plan SQLite chooses, without statistics, for the page query. (The satisfaction
    index is a range on `satisfaction`: SQLite needs ANALYZE statistics to prefer it;
    the PostgreSQL plans of every alert are in docs/performance.md.)"""
    if db.engine.dialect.name != "sqlite":
        return
    stmt = alert_rows_select(beneficiary_rows, 1, 2025, "taux_abandon").limit(50)
    sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    plan = " ".join(str(r[-1]) for r in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
    assert "ix_beneficiary_rows_version_type_sortie" in plan, plan
