"""The report pages' cache (audit/fund_use/report_cache.py): a second visit is served from
memory, and a payment, a workbook deposit, an audit validation or a contract change shows
on the very next page, through real HTTP and SQL."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from audit.fund_use.report_cache import MAX_ENTRIES, cache
from audit.fund_use.services import compute_report
from platform_core.extensions import db
from platform_core.formatting import fr_euros
from platform_core.models import Organisation
from tenders.models import Contract
from tests.conftest import page
from tests.functional.quality_support import all_leaves, make_audit, rate
from tests.functional.test_fund_use_pages import make_contract, make_payment
from tests.functional.workbook_files import ROWS, write_workbook

BASE = "/suivi/usage-des-fonds"
YEAR = 2025


@pytest.fixture
def contract_id(app, accounts):
    app.config["WORKBOOK_IMPORT_SYNC"] = True
    c = make_contract(accounts["_orgs"]["op_a"], "CEP-CACHE-53", "53", 100000, 10)
    make_payment(c, "FIXE", 20000, date(2025, 3, 28), year=YEAR, ref="T1")
    db.session.commit()
    return c.id


def national(client) -> str:
    text = page(client.get(f"{BASE}/?annee={YEAR}"))
    return text.split('data-testid="national"', 1)[1].split("</section>", 1)[0]


def row(html: str, label: str) -> str:
    match = re.search(rf'<th scope="row">{re.escape(label)}</th><td[^>]*>([^<]*)</td>', html)
    assert match, f"ligne « {label} » absente"
    return match.group(1).strip()


def served_from_cache(client, url: str) -> bool:
    before = cache().hits
    assert client.get(url).status_code == 200
    return cache().hits == before + 1


def test_second_visit_is_served_from_memory_and_a_payment_shows_at_once(client_for, contract_id):
    officer = client_for("acheteur")
    assert row(national(officer), "Total payé") == fr_euros(20000)
    assert served_from_cache(officer, f"{BASE}/?annee={YEAR}")
    # a payment by the form (real HTTP): the very next page shows it
    r = officer.post(f"{BASE}/contrat/{contract_id}/paiements/nouveau",
                     data={"paid_on": "2025-06-30", "amount": "20000.00", "kind": "FIXE",
                           "year": str(YEAR), "reference": "T2"})
    assert r.status_code == 302
    assert row(national(officer), "Total payé") == fr_euros(40000)
    # its reversal too (another payment, negative)
    payment_id = max(p["id"] for p in compute_report(YEAR)["sources"]["payments"])
    assert officer.post(f"{BASE}/paiements/{payment_id}/annuler").status_code == 302
    section = national(officer)
    assert row(section, "Total payé") == fr_euros(20000)
    assert row(section, "Payé — régularisations") == fr_euros(-20000)


def test_a_new_workbook_version_shows_at_once(client_for, contract_id, tmp_path):
    officer, operator = client_for("acheteur"), client_for("operateur")
    url = f"{BASE}/contrat/{contract_id}?annee={YEAR}"
    assert "Aucun bilan d'activité déposé pour 2025" in page(officer.get(url))
    assert served_from_cache(officer, url)

    def deposit(path):
        with open(path, "rb") as fh:
            data = {"contract_id": str(contract_id), "year": str(YEAR), "action": "deposer",
                    "file": (fh, path.name)}
            r = operator.post("/suivi/bilans/depot", data=data, content_type="multipart/form-data")
        assert r.status_code == 302

    deposit(write_workbook(tmp_path / "v1.xlsx", siret="99900000001001", year=YEAR))
    text = page(officer.get(url))
    assert "version n° 1" in text
    assert row(text.split('data-testid="activite"', 1)[1], "Entrées") == "5"  # 6 rows, 5 entered in 2025
    deposit(write_workbook(tmp_path / "v2.xlsx", siret="99900000001001", year=YEAR, rows=ROWS[:2]))
    text = page(officer.get(url))
    assert "version n° 2" in text
    assert row(text.split('data-testid="activite"', 1)[1], "Entrées") == "2"


def test_an_audit_validation_shows_at_once(client_for, accounts, contract_id):
    officer, auditor = client_for("acheteur"), client_for("auditeur")
    contract = db.session.get(Contract, contract_id)
    audit = make_audit(contract, YEAR, accounts["auditeur"], state="soumis")
    rate(audit, {leaf: "CONFORME" for leaf in all_leaves()})
    url = f"{BASE}/contrat/{contract_id}?annee={YEAR}"
    assert ">aucun audit<" in page(officer.get(url)).replace('data-testid="audit"', "")
    assert served_from_cache(officer, url)
    r = auditor.post(f"/suivi/audits/{audit.id}/etat", data={"to": "valide", "version": audit.version})
    assert r.status_code == 302
    db.session.expire_all()
    text = page(officer.get(url))
    assert "score 100,0\u202f%" in text and "aucun audit" not in text


def test_a_contract_or_operator_change_shows_at_once(client_for, accounts, contract_id):
    officer = client_for("acheteur")
    assert row(national(officer), "Prix annuel") == fr_euros(100000)
    assert served_from_cache(officer, f"{BASE}/?annee={YEAR}")
    contract = db.session.get(Contract, contract_id)
    contract.annual_price = Decimal("120000")  # an amendment
    db.session.commit()
    assert row(national(officer), "Prix annuel") == fr_euros(120000)
    org = db.session.get(Organisation, accounts["_orgs"]["op_a"])
    org.name = "Opérateur A renommé"
    db.session.commit()
    assert "CEP-CACHE-53 — Opérateur A renommé" in page(officer.get(f"{BASE}/?annee={YEAR}"))
    # a new contract in another region
    make_contract(accounts["_orgs"]["op_b"], "CEP-CACHE-52", "52", 50000, 10)
    db.session.commit()
    assert row(national(officer), "Prix annuel") == fr_euros(170000)


def test_pages_do_not_modify_the_shared_report(client_for, contract_id):
    officer = client_for("acheteur")
    for url in (f"{BASE}/?annee={YEAR}", f"{BASE}/?annee={YEAR}&impression=1",
                f"{BASE}/region/53?annee={YEAR}", f"{BASE}/contrat/{contract_id}?annee={YEAR}",
                f"{BASE}/export.xlsx?annee={YEAR}"):
        assert officer.get(url).status_code == 200
    assert client_for("operateur").get(f"{BASE}/?annee={YEAR}").status_code == 200
    assert client_for("observateur_bretagne").get(f"{BASE}/?annee={YEAR}").status_code == 200
    (cached,) = cache()._entries.values()
    assert cached == compute_report(YEAR)


def test_the_cache_is_bounded(client_for, contract_id):
    officer = client_for("acheteur")
    for year in range(2020, 2020 + MAX_ENTRIES + 3):
        assert officer.get(f"{BASE}/?annee={year}").status_code == 200
    assert len(cache()) == MAX_ENTRIES
    # the most recent years are the ones kept
    assert served_from_cache(officer, f"{BASE}/?annee={2020 + MAX_ENTRIES + 2}")
