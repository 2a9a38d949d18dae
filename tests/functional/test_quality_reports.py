"""Audit report (page and xlsx), heat map, trends, operator history, dashboards."""
from __future__ import annotations

from datetime import date

from audit.quality.models import CorrectiveAction, Finding
from platform_core.extensions import db
from tests.conftest import page
from tests.functional.quality_support import all_leaves, make_audit, make_contract, make_workbook, rate, xlsx_rows


def _validated(accounts, reference="R-1", org="op_a", region="53", year=2025):
    audit = make_audit(make_contract(accounts["_orgs"][org], region=region, reference=reference), year,
                       accounts["auditeur"])
    ratings = {ind: "CONFORME" for ind in all_leaves()}
    ratings.update({"A5": "NC_MAJEURE", "B4": "NC_MINEURE", "C4": "NON_APPLICABLE"})
    rate(audit, ratings)
    audit.state, audit.score, audit.has_major, audit.validated_on = "valide", 25 / 28, True, date(2025, 6, 2)
    for ind, rating, due in (("A5", "NC_MAJEURE", date(2025, 9, 2)), ("B4", "NC_MINEURE", date(2025, 12, 2))):
        finding = Finding(audit_id=audit.id, indicator_id=ind, indicator_title=ind, rating=rating,
                          observation="=HYPERLINK(\"http://x\")" if ind == "A5" else "constat")
        db.session.add(CorrectiveAction(finding=finding, audit_id=audit.id, due_on=due))
    db.session.commit()
    return audit


def test_report_page_and_xlsx(client_for, accounts):
    audit = _validated(accounts)
    make_workbook(audit.contract, 2025, {"sorties": 10, "distributions": {"type_sortie": {"ABANDON": 5}}})
    text = page(client_for("acheteur").get(f"/suivi/audits/{audit.id}/rapport"))
    assert "Rapport d'audit qualité" in text and "89,3\u202f%" in text
    assert "Non-conformité majeure : A5" in text and "02/09/2025" in text and "Taux d'abandon : 50,0" in text
    # the audited operator reads the report once validated
    assert client_for("operateur").get(f"/suivi/audits/{audit.id}/rapport").status_code == 200
    assert client_for("operateur_b").get(f"/suivi/audits/{audit.id}/rapport").status_code == 404
    response = client_for("auditeur").get(f"/suivi/audits/{audit.id}/rapport.xlsx")
    assert response.status_code == 200
    context = dict(xlsx_rows(response.data, "Contexte")[1:])
    assert context["Score"] == "89,3\u202f%" and context["Non-conformité majeure"] == "oui"
    notes = xlsx_rows(response.data, "Notes")
    assert ("A", "A5") == notes[5][:2] and notes[5][3] == "Non-conformité majeure"
    actions = xlsx_rows(response.data, "Constats et actions")
    assert actions[1][0] == "A5" and actions[1][2].startswith("'=")  # user text neutralised
    assert actions[1][5] == "à proposer"
    figures = xlsx_rows(response.data, "Chiffres liés")
    assert any(r[0] == "B6" and r[1] == "Taux d'abandon" for r in figures)


def test_heat_map_has_text_in_every_cell(client_for, accounts):
    _validated(accounts, "H-1")
    _validated(accounts, "H-2", org="op_b", region="52")
    text = page(client_for("admin").get("/suivi/audits/carte-thermique?annee=2025"))
    assert 'class="heat-NC_MAJEURE"><abbr title="Non-conformité majeure">NC maj.</abbr>' in text
    assert 'class="heat-NON_APPLICABLE"><abbr title="Non applicable">N/A</abbr>' in text
    assert text.count('class="heat-CONFORME"><abbr title="Conforme">Conf.</abbr>') == 2 * 23
    assert "H-1" in text and "H-2" in text
    assert client_for("operateur").get("/suivi/audits/carte-thermique").status_code == 403


def test_operator_history_and_dashboards(client_for, accounts):
    audit = _validated(accounts, "D-1")
    action = db.session.query(CorrectiveAction).first()
    action.due_on = date(2020, 1, 1)  # overdue
    db.session.commit()
    history = page(client_for("operateur").get(f"/suivi/audits/operateurs/{accounts['_orgs']['op_a']}"))
    assert "89,3\u202f%" in history and "2025" in history
    assert client_for("operateur_b").get(f"/suivi/audits/operateurs/{accounts['_orgs']['op_a']}").status_code == 404
    dash = page(client_for("operateur").get("/tableau-de-bord"))
    assert "Actions correctives à proposer ou à réaliser" in dash and "Actions correctives en retard" in dash
    assert "Actions correctives en retard (tous opérateurs)" in page(client_for("acheteur").get("/tableau-de-bord"))
    assert 'data-testid="overdue"' in page(client_for("operateur").get(f"/suivi/audits/{audit.id}"))
    # auditor: audits to run
    make_audit(make_contract(accounts["_orgs"]["op_b"], region="52", reference="D-2"), 2025, accounts["auditeur"])
    assert "Audits qualité à mener" in page(client_for("auditeur").get("/tableau-de-bord"))
