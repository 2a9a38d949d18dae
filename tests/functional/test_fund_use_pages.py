"""Fund-use report pages, access rules, xlsx export and CLI, through real HTTP and SQL."""
from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from audit.fund_use.models import Payment
from audit.workbooks.models import WorkbookVersion
from platform_core.extensions import db
from platform_core.models import StoredFile
from quality_framework.fund_use_report import SUMMARY_COLUMNS
from quality_framework.indicators import Counts
from tenders.models import Contract
from tests.conftest import page

YEAR = 2024


def make_contract(org_id, ref, region, price, capacity, status="ACTIF", ends=date(2027, 12, 31)):
    c = Contract(reference=ref, operator_id=org_id, region_code=region,
                 starts_on=date(2024, 1, 1), ends_on=ends, annual_capacity=capacity,
                 annual_price=Decimal(str(price)), status=status)
    db.session.add(c)
    db.session.flush()
    return c


def make_version(contract, counts, finances, etp, year=YEAR, number=1):
    stored = StoredFile(sha256=f"{contract.id:02d}" * 32, size=10, original_name="bilan.xlsx",
                        media_type="application/octet-stream")
    db.session.add(stored)
    db.session.flush()
    v = WorkbookVersion(contract_id=contract.id, year=year, number=number, is_current=True,
                        stored_file_id=stored.id, counts=counts.to_dict(),
                        means={"etp_conseillers": etp}, finances=finances)
    db.session.add(v)
    db.session.flush()
    return v


def make_payment(contract, kind, amount, paid_on=date(2024, 6, 30), year=YEAR, ref="MANDAT"):
    p = Payment(contract_id=contract.id, kind=kind, amount=Decimal(str(amount)), paid_on=paid_on,
                year=year, reference=ref)
    db.session.add(p)
    db.session.flush()
    return p


@pytest.fixture
def data(app, accounts):
    """Two contracts in two regions (53: operator A, 52: operator B), checked by hand
    in tests/unit/test_fund_use_report.py."""
    orgs = accounts["_orgs"]
    a = make_contract(orgs["op_a"], "CEP-BRE-2024", "53", 100000, 1000)
    b = make_contract(orgs["op_b"], "CEP-PDL-2024", "52", 50000, 500)
    make_version(a, Counts(entrees=800, parcours_actifs=1000, sorties=400,
                           satisfaction_answers=200, satisfaction_satisfied=170,
                           satisfaction_sum=800, sorties_niveau2plus=300,
                           sorties_niveau2plus_document_o=285, heures_totales=4000.0),
                 {"PERSONNEL": 60000, "LOCAUX": 20000, "FINANCEMENT_FRANCE_COMPETENCES": 95000},
                 10.0)
    make_version(b, Counts(entrees=600, parcours_actifs=700, sorties=200,
                           satisfaction_answers=100, satisfaction_satisfied=60,
                           satisfaction_sum=350, sorties_niveau2plus=100,
                           sorties_niveau2plus_document_o=80, heures_totales=3000.0),
                 {"PERSONNEL": 54000, "LOCAUX": 18000, "FINANCEMENT_FRANCE_COMPETENCES": 52000},
                 5.0)
    for month in (3, 6, 9, 12):
        make_payment(a, "FIXE", 20000, date(2024, month, 28))
    make_payment(a, "VARIABLE", 15000, date(2025, 4, 1))
    make_payment(b, "FIXE", 40000)
    make_payment(b, "VARIABLE", 10000, date(2025, 4, 1))
    db.session.commit()
    return {"a": a.id, "b": b.id}


def test_national_page_shows_hand_computed_figures_and_charts(client_for, data):
    r = client_for("acheteur").get(f"/suivi/usage-des-fonds/?annee={YEAR}")
    assert r.status_code == 200
    text = page(r)
    assert "Rapport sur l'usage des fonds du CEP — 2024" in text
    assert "26\u202f529,41\u202f€" in text          # variable earned nationally
    assert "Reste dû à l'opérateur : 1\u00a0529,41\u00a0€" in text
    assert "110,00\u202f€" in text                   # national median cost per entry
    assert text.count("<svg") >= 4                   # bars, bars, stacked, lines
    assert 'data-testid="table-graphique"' in text   # each chart has its table
    assert "CEP-BRE-2024" in text and "CEP-PDL-2024" in text
    assert "0101010101" in text                      # sha256 of the version used


def test_contract_page_explains_the_variable_part_and_flags_the_gap(client_for, data):
    r = client_for("acheteur").get(f"/suivi/usage-des-fonds/contrat/{data['b']}?annee={YEAR}")
    text = page(r)
    assert r.status_code == 200
    assert "8\u202f529,41\u202f€" in text
    assert "part variable gagnée = part variable maximale × (0,5 × min(taux de réalisation ; 1)" in text
    assert "Trop-perçu par l'opérateur : 1\u00a0470,59\u00a0€" in text
    assert "Écart supérieur à 2 %" in text
    assert "au-dessus de la médiane" in text
    assert "aucun audit" in text
    assert "Enregistrer un paiement" in text


def test_print_view(client_for, data):
    text = page(client_for("acheteur").get(f"/suivi/usage-des-fonds/?annee={YEAR}&impression=1"))
    assert "Version imprimable" in text and "<svg" in text
    assert 'data-testid="choix-annee"' not in text


def test_bad_year_is_refused_in_french(client_for, data):
    r = client_for("acheteur").get("/suivi/usage-des-fonds/?annee=20x4")
    assert r.status_code == 400
    assert "Année « 20x4 » invalide" in page(r)


# ------------------------------------------------------------------ access

def test_operator_sees_only_its_own_contracts(client_for, data):
    op_b = client_for("operateur_b")
    assert op_b.get(f"/suivi/usage-des-fonds/contrat/{data['a']}?annee={YEAR}").status_code == 404
    assert op_b.get(f"/suivi/usage-des-fonds/contrat/{data['b']}?annee={YEAR}").status_code == 200
    assert op_b.get(f"/suivi/usage-des-fonds/region/53?annee={YEAR}").status_code == 404
    assert op_b.get(f"/suivi/usage-des-fonds/region/52?annee={YEAR}").status_code == 404
    text = page(op_b.get(f"/suivi/usage-des-fonds/?annee={YEAR}"))
    assert "CEP-PDL-2024" in text and "CEP-BRE-2024" not in text
    assert 'data-testid="national"' not in text
    wb = openpyxl.load_workbook(io.BytesIO(op_b.get(f"/suivi/usage-des-fonds/export.xlsx?annee={YEAR}").data))
    refs = [row[0] for row in wb["Contrats"].iter_rows(min_row=2, values_only=True)]
    assert refs == ["CEP-PDL-2024"]
    assert wb["Régions"].max_row == 1


def test_regional_observer_sees_its_region_only(client_for, data):
    obs = client_for("observateur_bretagne")
    assert obs.get(f"/suivi/usage-des-fonds/region/53?annee={YEAR}").status_code == 200
    assert obs.get(f"/suivi/usage-des-fonds/region/52?annee={YEAR}").status_code == 404
    assert obs.get(f"/suivi/usage-des-fonds/contrat/{data['a']}?annee={YEAR}").status_code == 200
    assert obs.get(f"/suivi/usage-des-fonds/contrat/{data['b']}?annee={YEAR}").status_code == 404
    text = page(obs.get(f"/suivi/usage-des-fonds/?annee={YEAR}"))
    assert "CEP-BRE-2024" in text and "CEP-PDL-2024" not in text
    assert 'data-testid="national"' not in text
    # payments are officers' business
    assert obs.get("/suivi/usage-des-fonds/paiements").status_code == 403


def test_national_observer_sees_everything(client_for, data):
    obs = client_for("observateur")
    text = page(obs.get(f"/suivi/usage-des-fonds/?annee={YEAR}"))
    assert 'data-testid="national"' in text and "CEP-PDL-2024" in text
    assert obs.get(f"/suivi/usage-des-fonds/region/52?annee={YEAR}").status_code == 200


@pytest.mark.parametrize("url", [
    "/suivi/usage-des-fonds/", "/suivi/usage-des-fonds/region/53",
    "/suivi/usage-des-fonds/contrat/1", "/suivi/usage-des-fonds/export.xlsx",
    "/suivi/usage-des-fonds/paiements", "/suivi/usage-des-fonds/paiements/import",
])
def test_auditor_has_no_access(client_for, data, url):
    assert client_for("auditeur").get(url).status_code == 403


# ------------------------------------------------------------------ export

def test_xlsx_export_matches_the_report(client_for, data):
    from audit.fund_use.services import compute_report
    from quality_framework.fund_use_report import summary

    r = client_for("acheteur").get(f"/suivi/usage-des-fonds/export.xlsx?annee={YEAR}")
    assert r.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(r.data))
    assert {"Contrats", "Régions", "National", "Paiements", "Sources"} <= set(wb.sheetnames)
    report = compute_report(YEAR)
    labels = [label for _, label, _ in SUMMARY_COLUMNS]

    nat = wb["National"]
    header = [c.value for c in nat[1]]
    values = dict(zip(header, [c.value for c in nat[2]]))
    expected = summary(report["national"])
    for key, label, _ in SUMMARY_COLUMNS:
        want = expected[key]
        assert values[label] == (pytest.approx(want) if isinstance(want, float) else want), label
    assert values["Part variable gagnée"] == 26529.41

    contracts = wb["Contrats"]
    header = [c.value for c in contracts[1]]
    by_ref = {row[0]: dict(zip(header, row)) for row in contracts.iter_rows(min_row=2, values_only=True)}
    assert by_ref["CEP-PDL-2024"]["Solde (dû > 0, trop-perçu < 0)"] == -1470.59
    assert by_ref["CEP-PDL-2024"]["Écart > 2 %"] == "oui"
    assert by_ref["CEP-BRE-2024"]["Coût par entrée"] == pytest.approx(100.0)
    assert by_ref["CEP-BRE-2024"]["Dernier audit (score)"] == "aucun audit"
    assert set(labels) <= set(header)

    regions = wb["Régions"]
    codes = [row[0] for row in regions.iter_rows(min_row=2, values_only=True)]
    assert codes == ["52", "53"]
    assert contracts._charts and regions._charts and nat._charts

    payments = [row for row in wb["Paiements"].iter_rows(min_row=2, values_only=True)]
    assert len(payments) == 7
    sources = "\n".join(str(c) for row in wb["Sources"].iter_rows(values_only=True) for c in row if c)
    assert "01" * 32 in sources and "02" * 32 in sources


def test_xlsx_neutralises_user_text(client_for, data, accounts):
    c = db.session.get(Contract, data["a"])
    make_payment(c, "FIXE", 1, ref="=HYPERLINK(\"http://x\")")
    db.session.commit()
    wb = openpyxl.load_workbook(io.BytesIO(
        client_for("acheteur").get(f"/suivi/usage-des-fonds/export.xlsx?annee={YEAR}").data))
    refs = [row[6] for row in wb["Paiements"].iter_rows(min_row=2, values_only=True)]
    assert "'=HYPERLINK(\"http://x\")" in refs


# ------------------------------------------------------------------ CLI

def test_cli_json_and_xlsx(app, data, tmp_path):
    out = tmp_path / "rapport.xlsx"
    result = app.test_cli_runner().invoke(
        args=["report", "fund-use", "--year", str(YEAR), "--xlsx", str(out), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["year"] == YEAR
    assert payload["national"]["summary"]["variable_earned"] == 26529.41
    assert payload["medians"]["cout_par_entree"] == pytest.approx(110.0)
    assert openpyxl.load_workbook(out)["National"]._charts is not None


@pytest.mark.parametrize("year", ["20x4", "1850", ""])
def test_cli_bad_year(app, data, year):
    result = app.test_cli_runner().invoke(args=["report", "fund-use", "--year", year])
    assert result.exit_code == 1
    assert "année" in result.output.lower() and "invalide" in result.output


def test_dashboard_lists_overpaid_and_unpaid_variable(client_for, accounts, app, monkeypatch):
    from audit.fund_use import views

    orgs = accounts["_orgs"]
    a = make_contract(orgs["op_a"], "CEP-DASH-A", "53", 100000, 100)
    b = make_contract(orgs["op_b"], "CEP-DASH-B", "52", 100000, 100)
    make_version(a, Counts(entrees=100, parcours_actifs=100), None, 1.0)
    make_version(b, Counts(entrees=100, parcours_actifs=100), None, 1.0)
    make_payment(b, "FIXE", 90000)      # fixed 80000 + variable 10000 earned: overpaid? no
    make_payment(b, "VARIABLE", 15000)  # 105000 paid for 90000 earned: overpaid
    db.session.commit()
    monkeypatch.setattr(views, "today_paris", lambda: date(2025, 3, 1))
    text = page(client_for("acheteur").get("/tableau-de-bord"))
    assert "Trop-perçus 2024" in text and "CEP-DASH-B" in text
    assert "Part variable 2024 non versée" in text and "CEP-DASH-A" in text


def test_evolution_on_pages_and_in_the_xlsx(client_for, data):
    c = db.session.get(Contract, data["a"])
    make_version(c, Counts(entrees=900, parcours_actifs=950), {"PERSONNEL": 90000}, 10.0,
                 year=2025)
    make_payment(c, "FIXE", 20000, date(2025, 3, 28), year=2025)
    db.session.commit()
    client = client_for("acheteur")
    for url in (f"/suivi/usage-des-fonds/?annee=2025", f"/suivi/usage-des-fonds/region/53?annee=2025",
                f"/suivi/usage-des-fonds/contrat/{data['a']}?annee=2025"):
        text = page(client.get(url))
        table = text.split('data-testid="evolution"')[1].split("</table>")[0]
        assert ">2024<" in table and ">2025<" in table, url
        assert "1\u202f400" in table or "800" in table, url      # 2024 entries
        assert "900" in table, url                               # 2025 entries
    wb = openpyxl.load_workbook(io.BytesIO(client.get("/suivi/usage-des-fonds/export.xlsx?annee=2025").data))
    rows = list(wb["Évolution"].iter_rows(min_row=2, values_only=True))
    national = {r[0]: r for r in rows if r[1] == "national"}
    header = [cell.value for cell in wb["Évolution"][1]]
    entries = header.index("Entrées")
    assert national[2024][entries] == 1400 and national[2025][entries] == 900


def test_regional_observer_export_is_limited_to_its_region(client_for, data):
    wb = openpyxl.load_workbook(io.BytesIO(
        client_for("observateur_bretagne").get(f"/suivi/usage-des-fonds/export.xlsx?annee={YEAR}").data))
    assert [r[0] for r in wb["Contrats"].iter_rows(min_row=2, values_only=True)] == ["CEP-BRE-2024"]
    assert [r[0] for r in wb["Régions"].iter_rows(min_row=2, values_only=True)] == ["53"]
    assert wb["National"]["A1"].value.startswith("Les totaux nationaux ne font pas partie")
    assert {r[1] for r in wb["Paiements"].iter_rows(min_row=2, values_only=True)} == {"CEP-BRE-2024"}
