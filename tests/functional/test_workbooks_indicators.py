"""Indicator pages from stored counts, aggregation, alerts and thresholds, status
board, reminders."""
from __future__ import annotations

import io
import re
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from audit.workbooks import service, status_views
from audit.workbooks.models import AlertThresholds, WorkbookVersion
from platform_core.extensions import db
from platform_core.models import JournalEntry
from tests.conftest import page
from tests.functional.test_workbooks_import import SIRET_A, make_contract
from tests.functional.workbook_files import ROWS, write_workbook

SIRET_B = "99900000001019"
NBSP = "\u202f"


def deposit(path, contract, year=2025):
    data = path.read_bytes()
    result = service.check(data, contract, year)
    assert result.valid, result.to_text()
    return service.deposit(result, data, path.name, "xlsx", contract, year)


@pytest.fixture
def two_contracts(app, accounts, tmp_path):
    a = make_contract(accounts["_orgs"]["op_a"], "53", "CEP-A-53", capacity=10)
    b = make_contract(accounts["_orgs"]["op_b"], "52", "CEP-B-52", capacity=4)
    va = deposit(write_workbook(tmp_path / "a.xlsx", siret=SIRET_A), a)
    vb = deposit(write_workbook(tmp_path / "b.xlsx", siret=SIRET_B, region="52", rows=ROWS[:3]), b)
    return {"a": a.id, "b": b.id, "va": va.id, "vb": vb.id}


def cells(html: str, name: str) -> list[str]:
    row = re.search(rf'<tr data-indicateur="{name}">(.*?)</tr>', html, re.S).group(1)
    return [re.sub(r"<.*?>", "", td).strip() for td in re.findall(r"<td>(.*?)</td>", row, re.S)]


def test_contract_page_equals_hand_computed(client_for, two_contracts):
    html = page(client_for("operateur").get(f"/suivi/bilans/indicateurs/marches/{two_contracts['a']}?annee=2025"))
    # hand computation in workbook_files.py
    assert cells(html, "entrees") == ["5"]
    assert cells(html, "sorties") == ["4"]
    assert cells(html, "taux_abandon") == [f"25,0{NBSP}%"]
    assert cells(html, "taux_information_seule") == [f"20,0{NBSP}%"]
    assert cells(html, "taux_parcours_courts") == [f"25,0{NBSP}%"]
    assert cells(html, "taux_satisfaits") == [f"66,7{NBSP}%"]
    assert cells(html, "taux_document_synthese") == [f"75,0{NBSP}%"]
    assert cells(html, "taux_realisation") == [f"50,0{NBSP}%"]
    assert cells(html, "satisfaction_moyenne") == ["3,67"]
    assert cells(html, "cout_par_entree") == [f"24{NBSP}000,00{NBSP}€"]
    assert "<svg" in html and 'data-repartition="sexe"' in html


def test_regional_and_national_aggregate_rows(client_for, two_contracts):
    c = client_for("acheteur")
    html = page(c.get("/suivi/bilans/indicateurs/?annee=2025"))
    assert cells(html, "entrees") == ["8"]
    assert cells(html, "sorties") == ["7"]
    # 2 abandons / 7 sorties, not the mean of 25 % and 33,3 %
    assert cells(html, "taux_abandon") == [f"28,6{NBSP}%"]
    # (5 + 3) entrées / (10 + 4) capacity
    assert cells(html, "taux_realisation") == [f"57,1{NBSP}%"]
    html = page(c.get("/suivi/bilans/indicateurs/regions/52?annee=2025"))
    assert cells(html, "entrees") == ["3"] and cells(html, "taux_abandon") == [f"33,3{NBSP}%"]
    # a regional observer only reaches its own region
    obs = client_for("observateur_bretagne")
    assert obs.get("/suivi/bilans/indicateurs/regions/52").status_code == 404
    assert obs.get("/suivi/bilans/indicateurs/").status_code == 302
    html = page(obs.get("/suivi/bilans/indicateurs/regions/53?annee=2025"))
    assert cells(html, "entrees") == ["5"]
    export = c.get("/suivi/bilans/indicateurs/?annee=2025&format=xlsx")
    wb = load_workbook(io.BytesIO(export.data))
    rows = {r[1]: r[2:] for r in wb["Indicateurs"].iter_rows(min_row=2, values_only=True)}
    assert rows["entrees"] == (8,) and abs(rows["taux_abandon"][0] - 2 / 7) < 1e-9


def test_alerts_rows_and_thresholds(client_for, two_contracts):
    c = client_for("acheteur")
    html = page(c.get(f"/suivi/bilans/indicateurs/marches/{two_contracts['a']}?annee=2025"))
    assert "Taux de bénéficiaires satisfaits : 66,7" in html  # < 85 %
    assert "taux_abandon" not in re.search(r'data-testid="alertes">(.*?)</table>', html, re.S).group(1)
    rows = page(c.get(f"/suivi/bilans/alertes/{two_contracts['va']}/taux_satisfaits"))
    # read inside the rows table: the page's CSRF token, signed with the time, may hold « P1 »
    table = re.search(r'data-testid="lignes-alerte">(.*?)</table>', rows, re.S).group(1)
    assert re.findall(r"<tr><td>([^<]*)</td>", table) == ["P6"] and "1 ligne" in rows
    assert "<td>P6</td><td>7</td>" in rows  # spreadsheet row of P6 (header = row 1)
    assert c.get(f"/suivi/bilans/alertes/{two_contracts['va']}/inconnu").status_code == 404

    form = {n: "0,5" for n in ("taux_information_seule", "taux_abandon", "taux_parcours_courts",
                               "taux_realisation", "taux_satisfaits", "taux_document_synthese")}
    bad = dict(form, taux_abandon="1,5", taux_satisfaits="beaucoup", version="0")
    r = c.post("/suivi/bilans/seuils?annee=2025", data=bad)
    assert r.status_code == 400
    assert "entre 0 et 1" in page(r) and "doit être un nombre" in page(r)
    assert db.session.scalar(select(AlertThresholds)) is None
    good = dict(form, taux_abandon="0,2", version="0")
    assert c.post("/suivi/bilans/seuils?annee=2025", data=good).status_code == 302
    db.session.expire_all()
    row = db.session.scalar(select(AlertThresholds))
    assert row.thresholds["taux_abandon"] == 0.2
    assert db.session.scalar(select(JournalEntry).where(JournalEntry.action == "seuils_alerte_modifies"))
    # a stale form (version 0 again) is refused
    r = c.post("/suivi/bilans/seuils?annee=2025", data=dict(good, taux_abandon="0,3"))
    assert r.status_code == 400 and "modifiés par quelqu'un d'autre" in page(r)
    html = page(c.get(f"/suivi/bilans/indicateurs/marches/{two_contracts['a']}?annee=2025"))
    assert "Taux d'abandon : 25,0" in html  # now above the 20 % threshold
    assert client_for("operateur").get("/suivi/bilans/seuils").status_code == 403


def test_status_board_dashboard_and_reminders(client_for, two_contracts, accounts, tmp_path, monkeypatch):
    monkeypatch.setattr(status_views, "today_paris", lambda: date(2026, 5, 1))
    late = make_contract(accounts["_orgs"]["op_b"], "52", "CEP-C-52")
    failed = make_contract(accounts["_orgs"]["op_a"], "53", "CEP-D-53")
    bad = [list(r) for r in ROWS]
    bad[0][3] = "Z"
    data = write_workbook(tmp_path / "bad.xlsx", siret=SIRET_A, rows=bad).read_bytes()
    up = service.create_upload(data, "bad.xlsx", "xlsx", failed, 2025, None, dry_run=False)
    service.run_upload(up.id)
    html = page(client_for("acheteur").get("/suivi/bilans/etat-des-depots?annee=2025"))
    states = re.findall(r'data-etat="(\w+)"><td><a [^>]*>([^<]+)</a>', html)
    assert states == [("depose", "CEP-B-52"), ("retard", "CEP-C-52"), ("depose", "CEP-A-53"),
                      ("echecs", "CEP-D-53")]
    assert "seulement des dépôts refusés (1)" in html
    dash = page(client_for("acheteur").get("/tableau-de-bord"))
    assert "Bilans 2025 en retard" in dash
    dash = page(client_for("operateur").get("/tableau-de-bord"))
    assert "CEP-D-53" in dash and "dernier dépôt a été refusé" in dash

    sent = []
    monkeypatch.setattr(status_views, "notify",
                        lambda users, subject, body, link=None, key=None: sent.append((key, [u.email for u in users])) or 1)
    assert status_views.reminder_stage(2025, date(2026, 3, 1)) == "J-30"
    assert status_views.reminder_stage(2025, date(2026, 3, 30)) == "J-1"
    assert status_views.reminder_stage(2025, date(2026, 4, 10)) == "retard-S2"
    result = status_views.send_reminders(datetime(2026, 3, 25, 8, 0))
    assert result["etape"] == "J-7"
    assert sorted(sent) == sorted([(f"bilan-{late.id}-2025-J-7", ["operateur_b@test.example.fr"]),
                                   (f"bilan-{failed.id}-2025-J-7", ["operateur@test.example.fr"])])
