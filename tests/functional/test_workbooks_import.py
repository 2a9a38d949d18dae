"""Workbook import service and CLI: versions, atomicity, concurrency refusal, exit codes."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from audit.workbooks import service
from audit.workbooks.cli import workbook_cli
from audit.workbooks.models import WorkbookUpload, WorkbookVersion, beneficiary_rows
from platform_core.extensions import db
from platform_core.models import JournalEntry, StoredFile
from quality_framework import indicators
from tenders.models import Contract
from tests.functional.workbook_files import ROWS, write_workbook

SIRET_A = "99900000001001"


def make_contract(org_id: int, region: str = "53", reference: str = "CEP-T-53", capacity: int = 10) -> Contract:
    contract = Contract(reference=reference, operator_id=org_id, region_code=region,
                        starts_on=date(2024, 1, 1), ends_on=date(2027, 12, 31),
                        annual_capacity=capacity, annual_price=Decimal("100000"))
    db.session.add(contract)
    db.session.commit()
    return contract


def row_count() -> int:
    return db.session.scalar(select(func.count()).select_from(beneficiary_rows))


def deposit_file(path, contract, year=2025):
    data = path.read_bytes()
    result = service.check(data, contract, year)
    return result, (service.deposit(result, data, path.name, "xlsx", contract, year) if result.valid else None)


def test_deposit_creates_versions_and_switches_current(app, accounts, tmp_path):
    contract = make_contract(accounts["_orgs"]["op_a"])
    path = write_workbook(tmp_path / "b.xlsx", siret=SIRET_A)
    _, v1 = deposit_file(path, contract)
    assert (v1.number, v1.is_current, v1.row_count) == (1, True, 6)
    assert v1.counts["entrees"] == 5 and v1.counts["sorties"] == 4
    path2 = write_workbook(tmp_path / "b2.xlsx", siret=SIRET_A, rows=ROWS[:3])
    _, v2 = deposit_file(path2, contract)
    db.session.expire_all()
    versions = db.session.scalars(select(WorkbookVersion).order_by(WorkbookVersion.number)).all()
    assert [(v.number, v.is_current) for v in versions] == [(1, False), (2, True)]
    assert row_count() == 9  # earlier version stays readable
    assert versions[1].stored_file.sha256 != versions[0].stored_file.sha256
    actions = db.session.scalars(select(JournalEntry.action)).all()
    assert actions.count("bilan_depose") == 2


def test_error_on_last_row_stores_nothing(app, accounts, tmp_path):
    contract = make_contract(accounts["_orgs"]["op_a"])
    bad = [list(r) for r in ROWS]
    bad[-1][3] = "X"  # sexe outside its list, on the last row
    path = write_workbook(tmp_path / "bad.xlsx", siret=SIRET_A, rows=bad)
    result, version = deposit_file(path, contract)
    assert version is None and not result.valid
    assert [(p.code, p.ligne, p.lettre) for p in result.errors] == [("CODE_INCONNU", 7, "D")]
    with pytest.raises(service.DepositRefused):
        service.deposit(result, path.read_bytes(), "bad.xlsx", "xlsx", contract, 2025)
    assert row_count() == 0
    assert db.session.scalar(select(func.count()).select_from(WorkbookVersion)) == 0
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_failure_during_insert_rolls_everything_back(app, accounts, tmp_path, monkeypatch):
    contract = make_contract(accounts["_orgs"]["op_a"])
    path = write_workbook(tmp_path / "b.xlsx", siret=SIRET_A)
    data = path.read_bytes()
    result = service.check(data, contract, 2025)
    original = indicators.frame_columns

    def broken(frame):  # the last row violates NOT NULL
        columns = original(frame)
        columns["sexe"][-1] = None
        return columns

    monkeypatch.setattr(indicators, "frame_columns", broken)
    with pytest.raises(Exception):
        service.deposit(result, data, "b.xlsx", "xlsx", contract, 2025)
    assert row_count() == 0
    assert db.session.scalar(select(func.count()).select_from(WorkbookVersion)) == 0


def test_concurrent_number_clash_is_refused_in_french(app, accounts, tmp_path):
    contract = make_contract(accounts["_orgs"]["op_a"])
    path = write_workbook(tmp_path / "b.xlsx", siret=SIRET_A)
    result, _ = deposit_file(path, contract)
    # Simulate another deposit that committed number 2 between our read and our insert.
    real_scalar = db.session.scalar
    calls = {"n": 0}

    def stale_scalar(stmt, *a, **kw):
        value = real_scalar(stmt, *a, **kw)
        calls["n"] += 1
        return 0 if calls["n"] == 1 else value  # stale max(number)

    db.session.scalar = stale_scalar
    try:
        with pytest.raises(service.DepositRefused) as err:
            service.deposit(result, path.read_bytes(), "b.xlsx", "xlsx", contract, 2025)
    finally:
        del db.session.scalar
    assert "un autre dépôt est en cours" in err.value.message.lower()
    db.session.expire_all()
    assert row_count() == 6
    assert db.session.scalar(select(func.count()).select_from(WorkbookVersion)) == 1


def test_run_upload_dry_run_stores_nothing(app, accounts, tmp_path):
    contract = make_contract(accounts["_orgs"]["op_a"])
    data = write_workbook(tmp_path / "b.xlsx", siret=SIRET_A).read_bytes()
    upload = service.create_upload(data, "b.xlsx", "xlsx", contract, 2025, None, dry_run=True)
    upload = service.run_upload(upload.id)
    assert (upload.status, upload.outcome) == ("done", "valide")
    assert upload.preview["entrees"] == 5
    assert row_count() == 0
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_deposit_preview_comes_from_stored_counts_and_equals_the_dry_run(app, accounts, tmp_path):
    contract = make_contract(accounts["_orgs"]["op_a"])
    data = write_workbook(tmp_path / "b.xlsx", siret=SIRET_A).read_bytes()
    dry = service.run_upload(service.create_upload(data, "b.xlsx", "xlsx", contract, 2025, None,
                                                   dry_run=True).id)
    dry_preview = dict(dry.preview)
    done = service.run_upload(service.create_upload(data, "b.xlsx", "xlsx", contract, 2025, None,
                                                    dry_run=False).id)
    assert (done.status, done.outcome) == ("done", "depose")
    version = db.session.get(WorkbookVersion, done.version_id)
    assert version.counts["entrees"] == done.preview["entrees"] == 5
    assert done.preview == dry_preview  # stored counts (deposit) = in-memory counts (dry run)


# ----------------------------------------------------------------------------- CLI

def run_cli(app, *args):
    runner = app.test_cli_runner()
    return runner.invoke(workbook_cli, list(args))


def test_cli_check_exit_codes_and_json(app, tmp_path):
    ok = write_workbook(tmp_path / "ok.xlsx", siret=SIRET_A)
    res = run_cli(app, "check", str(ok), "--siret", SIRET_A, "--region", "53", "--year", "2025", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data == {"erreurs": [], "avertissements": [], "lignes": {"Beneficiaires": 6}}

    bad = [list(r) for r in ROWS]
    bad[0][1] = date(2031, 1, 1)
    badfile = write_workbook(tmp_path / "bad.xlsx", siret=SIRET_A, rows=bad)
    res = run_cli(app, "check", str(badfile), "--siret", SIRET_A, "--region", "53", "--year", "2025", "--json")
    assert res.exit_code == 1
    entry = json.loads(res.output)["erreurs"][0]
    assert set(entry) == {"feuille", "ligne", "colonne", "lettre", "valeur", "code", "message"}
    assert (entry["feuille"], entry["ligne"], entry["colonne"], entry["lettre"], entry["code"]) == (
        "Beneficiaires", 2, "date_entree", "B", "DATE_HORS_PERIODE")

    res = run_cli(app, "check", str(badfile), "--siret", SIRET_A, "--region", "53", "--year", "2025")
    assert res.exit_code == 1 and "Classeur refusé" in res.output

    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"%PDF-1.4 pas un classeur")
    res = run_cli(app, "check", str(junk), "--siret", SIRET_A, "--region", "53", "--year", "2025", "--json")
    assert res.exit_code == 2 and "illisible" in res.output.lower()

    res = run_cli(app, "check", str(ok), "--siret", "123", "--region", "53", "--year", "2025")
    assert res.exit_code == 2 and "SIRET" in res.output
    res = run_cli(app, "check", str(ok), "--siret", SIRET_A, "--region", "53")
    assert res.exit_code == 2 and "Argument --year manquant" in res.output
    res = run_cli(app, "check", str(ok), "--siret", SIRET_A, "--region", "99", "--year", "2025")
    assert res.exit_code == 2 and "--region incorrect" in res.output
    res = run_cli(app, "check", str(tmp_path / "absent.xlsx"), "--siret", SIRET_A, "--region", "53", "--year", "2025")
    assert res.exit_code == 2 and "Fichier introuvable" in res.output


def test_cli_indicators(app, tmp_path):
    ok = write_workbook(tmp_path / "ok.xlsx", siret=SIRET_A)
    args = ["indicators", str(ok), "--siret", SIRET_A, "--region", "53", "--year", "2025", "--json"]
    res = run_cli(app, *args)
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["taux_realisation"] is None
    assert (data["entrees"], data["sorties"], data["taux_abandon"], data["taux_information_seule"]) == (5, 4, 0.25, 0.2)
    assert data["repartition"]["sexe"] == {"F": 3, "H": 2}
    assert data["repartition"]["type_sortie"] == {"ABANDON": 1, "FIN_POINT": 1, "PLAN_ACTION": 2}
    res = run_cli(app, *args, "--capacite", "10")
    assert json.loads(res.output)["taux_realisation"] == 0.5
    other = write_workbook(tmp_path / "other.xlsx", siret="99900000001019")
    res = run_cli(app, "indicators", str(other), "--siret", SIRET_A, "--region", "53", "--year", "2025", "--json")
    assert res.exit_code == 1
    assert json.loads(res.output)["erreurs"][0]["code"] == "IDENTIFICATION_INCORRECTE"


def test_sqlite_connections_get_the_larger_page_cache(tmp_path):
    # platform_core/extensions.py: the import's index maintenance needs more than 2 MB.
    from sqlalchemy import create_engine

    from platform_core.extensions import SQLITE_CACHE_KIB

    engine = create_engine(f"sqlite:///{tmp_path / 'cache.sqlite3'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB == -64 * 1024
    engine.dispose()
