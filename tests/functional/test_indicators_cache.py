"""The national and regional indicator pages' cache (audit/workbooks/indicators_cache.py):
a second visit is served from memory with the same body, and a new workbook version, a
threshold change or a contract change shows on the very next page, through real HTTP and
SQL. The cached body holds nothing of the user who first asked for it."""
from __future__ import annotations

import re

import pytest

from audit.workbooks.indicators_cache import MAX_ENTRIES, cache
from platform_core.extensions import db
from tenders.models import Contract
from tests.conftest import page
from tests.functional.test_workbooks_indicators import SIRET_B, cells, deposit
from tests.functional.test_workbooks_import import SIRET_A, make_contract
from tests.functional.workbook_files import ROWS, write_workbook

NATIONAL = "/suivi/bilans/indicateurs/?annee=2025"
BRETAGNE = "/suivi/bilans/indicateurs/regions/53?annee=2025"
NBSP = "\u202f"


@pytest.fixture
def contracts(app, accounts, tmp_path):
    a = make_contract(accounts["_orgs"]["op_a"], "53", "CEP-A-53", capacity=10)
    b = make_contract(accounts["_orgs"]["op_b"], "52", "CEP-B-52", capacity=4)
    deposit(write_workbook(tmp_path / "a.xlsx", siret=SIRET_A), a)
    deposit(write_workbook(tmp_path / "b.xlsx", siret=SIRET_B, region="52", rows=ROWS[:3]), b)
    return {"a": a.id, "b": b.id}


def body(html: str) -> str:
    return html.split("<h1>", 1)[1].split('<footer', 1)[0]


def served_from_cache(client, url: str) -> str:
    before = cache().hits
    html = page(client.get(url))
    assert cache().hits == before + 1, f"{url} n'a pas été servie depuis le cache"
    return html


def test_second_visit_is_served_from_memory_with_the_same_body(client_for, contracts):
    officer = client_for("acheteur")
    first = page(officer.get(NATIONAL))
    assert cells(first, "entrees") == ["8"]
    again = served_from_cache(officer, NATIONAL)
    assert body(again) == body(first)
    # another officer gets the same body, not the first one's page
    admin = client_for("admin")
    other = served_from_cache(admin, NATIONAL)
    assert body(other) == body(first)
    assert "csrf" not in cache()._entries[next(reversed(cache()._entries))].lower()
    # the regional page is its own entry, with its own figures
    assert cells(page(officer.get(BRETAGNE)), "entrees") == ["5"]
    assert cells(served_from_cache(client_for("observateur_bretagne"), BRETAGNE), "entrees") == ["5"]
    # the xlsx export is always computed
    hits = cache().hits
    assert officer.get(NATIONAL + "&format=xlsx").status_code == 200
    assert cache().hits == hits


def test_a_new_workbook_version_shows_at_once(client_for, contracts, tmp_path):
    officer = client_for("acheteur")
    assert cells(page(officer.get(NATIONAL)), "entrees") == ["8"]
    assert cells(page(officer.get(BRETAGNE)), "entrees") == ["5"]
    deposit(write_workbook(tmp_path / "a2.xlsx", siret=SIRET_A, rows=ROWS[:2]),
            db.session.get(Contract, contracts["a"]))
    assert cells(page(officer.get(NATIONAL)), "entrees") == ["5"]  # 2 + 3
    assert cells(page(officer.get(BRETAGNE)), "entrees") == ["2"]


def test_a_threshold_change_shows_at_once(client_for, contracts):
    officer = client_for("acheteur")
    def alerts(html: str) -> str:  # the alerts table, "" when there is no alert at all
        found = re.search(r'data-testid="alertes">(.*?)</table>', html, re.S)
        return found.group(1) if found else ""

    form = {n: "0,5" for n in ("taux_information_seule", "taux_parcours_courts", "taux_realisation",
                               "taux_satisfaits", "taux_document_synthese")}

    def set_abandon(value: str, version: int) -> None:
        r = officer.post("/suivi/bilans/seuils?annee=2025",
                         data=dict(form, taux_abandon=value, version=str(version)))
        assert r.status_code == 302

    set_abandon("0,5", 0)
    assert "taux_abandon" not in alerts(page(officer.get(NATIONAL)))  # 25 % and 33 % < 50 %
    assert served_from_cache(officer, NATIONAL)
    set_abandon("0,2", 1)
    assert "taux_abandon" in alerts(page(officer.get(NATIONAL)))  # > 20 %
    # back to the earlier thresholds: a new state again, not the earlier entry
    set_abandon("0,3", 2)
    html = page(officer.get(NATIONAL))
    assert "CEP-B-52</td><td>taux_abandon" in alerts(html)  # 33 % > 30 %
    assert "CEP-A-53</td><td>taux_abandon" not in alerts(html)  # 25 % < 30 %


def test_a_contract_change_shows_at_once(client_for, contracts):
    officer = client_for("acheteur")
    assert cells(page(officer.get(NATIONAL)), "taux_realisation") == [f"57,1{NBSP}%"]  # 8 / 14
    contract = db.session.get(Contract, contracts["b"])
    contract.annual_capacity = 6  # an amendment
    db.session.commit()
    assert cells(page(officer.get(NATIONAL)), "taux_realisation") == [f"50,0{NBSP}%"]  # 8 / 16
    contract.reference = "CEP-B-52-bis"
    db.session.commit()
    assert "CEP-B-52-bis" in page(officer.get("/suivi/bilans/indicateurs/regions/52?annee=2025"))


def test_the_cache_is_bounded(client_for, contracts):
    officer = client_for("acheteur")
    for code in ("11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94"):
        for year in (2024, 2025):
            assert officer.get(f"/suivi/bilans/indicateurs/regions/{code}?annee={year}").status_code == 200
    assert len(cache()) == MAX_ENTRIES
