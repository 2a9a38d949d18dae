"""Upload pages through HTTP: dry run, deposit, versions, report, annotated copy,
bad files, object-level access."""
from __future__ import annotations

import io
import json
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from audit.workbooks.models import WorkbookUpload, WorkbookVersion, beneficiary_rows
from platform_core.extensions import db
from platform_core.models import StoredFile
from tests.conftest import page
from tests.functional.test_workbooks_import import SIRET_A, make_contract
from tests.functional.workbook_files import ROWS, write_workbook


@pytest.fixture
def setup(app, accounts):
    app.config["WORKBOOK_IMPORT_SYNC"] = True
    contract = make_contract(accounts["_orgs"]["op_a"])
    return contract.id


def post_file(client, contract_id, path, action, year=2025, filename=None):
    with open(path, "rb") as fh:
        data = {"contract_id": str(contract_id), "year": str(year), "action": action,
                "file": (io.BytesIO(fh.read()), filename or path.name)}
    return client.post("/suivi/bilans/depot", data=data, content_type="multipart/form-data")


def counts():
    db.session.expire_all()
    return (db.session.scalar(select(func.count()).select_from(beneficiary_rows)),
            db.session.scalar(select(func.count()).select_from(WorkbookVersion)),
            db.session.scalar(select(func.count()).select_from(StoredFile)))


def test_dry_run_stores_nothing_and_shows_preview(client_for, setup, tmp_path):
    c = client_for("operateur")
    path = write_workbook(tmp_path / "b.xlsx", siret=SIRET_A)
    r = post_file(c, setup, path, "verifier")
    assert r.status_code == 302
    r = c.get(r.headers["Location"])
    text = page(r)
    assert "Vérifié : aucune erreur" in text and "Rien n'a été enregistré" in text
    assert "taux_abandon" in text and "25,0" in text
    assert counts() == (0, 0, 0)
    assert "Refresh" not in r.headers
    # the checked file can then be deposited without sending it again
    upload_id = int(r.request.path.rstrip("/").split("/")[-1])
    assert client_for("operateur_b").post(f"/suivi/bilans/traitements/{upload_id}/deposer").status_code == 404
    r = c.post(f"/suivi/bilans/traitements/{upload_id}/deposer")
    assert "Bilan déposé : version 1, 6 lignes" in page(c.get(r.headers["Location"]))
    assert counts() == (6, 1, 1)


def test_deposit_twice_creates_versions(client_for, setup, tmp_path):
    c = client_for("operateur")
    path = write_workbook(tmp_path / "b.xlsx", siret=SIRET_A)
    r = c.get(post_file(c, setup, path, "deposer").headers["Location"])
    assert "Déposé" in page(r) and "version 1" in page(r)
    path2 = write_workbook(tmp_path / "b2.xlsx", siret=SIRET_A, rows=ROWS[:2])
    r = c.get(post_file(c, setup, path2, "deposer").headers["Location"])
    assert "version 2" in page(r)
    assert counts() == (8, 2, 2)
    text = page(c.get(f"/suivi/bilans/marches/{setup}"))
    assert "courante" in text and "remplacée" in text
    v1 = db.session.scalar(select(WorkbookVersion).where(WorkbookVersion.number == 1))
    # earlier version readable: its own figures (5 entrées) while the current one has 2
    text = page(c.get(f"/suivi/bilans/indicateurs/marches/{setup}?version={v1.id}"))
    assert "version remplacée" in text
    row = text.split("Entrées de l'année", 1)[1][:80]
    assert ">5<" in row.replace(" ", "") or "5" in row.split("</td>")[0]
    original = c.get(f"/suivi/bilans/versions/{v1.id}/fichier")
    assert original.status_code == 200 and original.data == path.read_bytes()


def test_refused_workbook_report_json_and_annotated_copy(client_for, setup, tmp_path):
    c = client_for("operateur")
    bad = [list(r) for r in ROWS]
    bad[-1][3] = "X"  # error on the last row
    bad[1][4] = "99-100"
    path = write_workbook(tmp_path / "bad.xlsx", siret=SIRET_A, rows=bad)
    location = post_file(c, setup, path, "deposer").headers["Location"]
    text = page(c.get(location))
    assert "Refusé : erreurs à corriger" in text
    assert "CODE_INCONNU — 2 erreurs" in text
    assert counts() == (0, 0, 0)
    upload_id = int(location.rstrip("/").split("/")[-1])
    report = json.loads(c.get(f"/suivi/bilans/traitements/{upload_id}/rapport.json").data)
    assert [(e["ligne"], e["lettre"], e["code"]) for e in report["erreurs"]] == [
        (3, "E", "CODE_INCONNU"), (7, "D", "CODE_INCONNU")]
    r = c.get(f"/suivi/bilans/traitements/{upload_id}/annote.xlsx")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.data))
    cell = wb["Beneficiaires"]["D7"]
    assert cell.value == "X" and cell.comment is not None and "CODE_INCONNU" in cell.comment.text
    # the failed deposit is on the status board
    upload = db.session.get(WorkbookUpload, upload_id)
    assert (upload.outcome, upload.dry_run) == ("refuse", False)


@pytest.mark.parametrize("content,name,expected", [
    (b"du texte, pas un classeur", "b.xlsx", "n'est pas un classeur .xlsx ou .ods"),
    (b"%PDF-1.4 un rapport", "b.xlsx", "c'est un PDF"),
    (b"PK\x03\x04corrompu" + b"\0" * 50, "b.xlsx", "corrompu"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "ancien.xls", "Ancien format Excel .xls"),
    (b"", "vide.xlsx", "Le fichier est vide"),
])
def test_bad_files_refused_in_french(client_for, setup, tmp_path, content, name, expected):
    c = client_for("operateur")
    path = tmp_path / name
    path.write_bytes(content)
    r = post_file(c, setup, path, "deposer")
    assert r.status_code == 400 and expected in page(r)
    assert counts() == (0, 0, 0)
    assert db.session.scalar(select(func.count()).select_from(WorkbookUpload)) == 0


def test_missing_sheet_and_truncated_zip(client_for, setup, tmp_path):
    c = client_for("operateur")
    path = write_workbook(tmp_path / "b.xlsx", siret=SIRET_A, drop_sheet="Moyens")
    text = page(c.get(post_file(c, setup, path, "deposer").headers["Location"]))
    assert "FEUILLE_MANQUANTE" in text and "Moyens" in text
    good = write_workbook(tmp_path / "g.xlsx", siret=SIRET_A).read_bytes()
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(good[: len(good) - 300])  # truncated: central directory lost
    r = post_file(c, setup, cut, "deposer")
    if r.status_code == 302:
        text = page(c.get(r.headers["Location"]))
        assert "Fichier illisible" in text
    else:
        assert r.status_code == 400 and "corrompu" in page(r)
    assert counts() == (0, 0, 0)


def test_object_level_access(client_for, setup, tmp_path):
    c = client_for("operateur")
    path = write_workbook(tmp_path / "b.xlsx", siret=SIRET_A)
    location = post_file(c, setup, path, "deposer").headers["Location"]
    upload_id = int(location.rstrip("/").split("/")[-1])
    version_id = db.session.scalar(select(WorkbookVersion.id))
    other = client_for("operateur_b")
    for url in (f"/suivi/bilans/traitements/{upload_id}", f"/suivi/bilans/traitements/{upload_id}/rapport.json",
                f"/suivi/bilans/versions/{version_id}", f"/suivi/bilans/versions/{version_id}/fichier",
                f"/suivi/bilans/marches/{setup}", f"/suivi/bilans/indicateurs/marches/{setup}",
                f"/suivi/bilans/alertes/{version_id}/taux_abandon", f"/suivi/bilans/modele/{setup}"):
        assert other.get(url).status_code == 404, url
    # operateur_b cannot deposit on operateur's contract either
    r = post_file(other, setup, path, "deposer")
    assert r.status_code in (400, 404)
    assert db.session.scalar(select(func.count()).select_from(WorkbookUpload)) == 1
    assert client_for("acheteur").get(f"/suivi/bilans/traitements/{upload_id}").status_code == 200
    assert client_for("observateur_bretagne").get(f"/suivi/bilans/indicateurs/marches/{setup}").status_code == 200
    assert client_for("auditeur").get(f"/suivi/bilans/indicateurs/marches/{setup}").status_code == 200


def test_template_download_prefilled(client_for, setup):
    r = client_for("operateur").get(f"/suivi/bilans/modele/{setup}?annee=2025")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.data))
    ident = {row[0]: row[1] for row in wb["Identification"].iter_rows(values_only=True)}
    assert str(ident["siret"]) == SIRET_A and str(ident["code_region"]) == "53" and str(ident["annee"]) == "2025"


def test_job_page_refreshes_until_done(client_for, setup, tmp_path):
    from audit.workbooks import service
    from tenders.models import Contract

    contract = db.session.get(Contract, setup)
    data = write_workbook(tmp_path / "b.xlsx", siret=SIRET_A).read_bytes()
    upload = service.create_upload(data, "b.xlsx", "xlsx", contract, 2025, None, dry_run=True)
    c = client_for("operateur")
    r = c.get(f"/suivi/bilans/traitements/{upload.id}")
    assert r.headers.get("Refresh") == "2"
    assert '<meta http-equiv="refresh" content="2">' in r.get_data(as_text=True)
    assert "En attente de traitement" in page(r)
    service.run_upload(upload.id)
    r = c.get(f"/suivi/bilans/traitements/{upload.id}")
    assert "Refresh" not in r.headers and "http-equiv" not in r.get_data(as_text=True)


def test_background_thread_runs_the_job(app, client_for, setup, tmp_path):
    import time

    app.config["WORKBOOK_IMPORT_SYNC"] = False
    c = client_for("operateur")
    path = write_workbook(tmp_path / "b.xlsx", siret=SIRET_A)
    location = post_file(c, setup, path, "deposer").headers["Location"]
    upload_id = int(location.rstrip("/").split("/")[-1])
    for _ in range(100):
        db.session.expire_all()
        upload = db.session.get(WorkbookUpload, upload_id)
        if upload.finished:
            break
        time.sleep(0.1)
    assert (upload.status, upload.outcome) == ("done", "depose")
    assert counts()[0] == 6


def test_ods_workbook_deposit_and_annotated_copy(client_for, setup, tmp_path):
    from tests.functional.workbook_files import write_ods_workbook

    c = client_for("operateur")
    path = write_ods_workbook(tmp_path / "bilan.ods", siret=SIRET_A)
    text = page(c.get(post_file(c, setup, path, "deposer").headers["Location"]))
    assert "Bilan déposé : version 1, 6 lignes" in text
    bad = [list(r) for r in ROWS]
    bad[2][12] = "INCONNU"  # motif, row 4, column M
    path = write_ods_workbook(tmp_path / "faux.ods", siret=SIRET_A, rows=bad)
    location = post_file(c, setup, path, "deposer").headers["Location"]
    assert "CODE_INCONNU" in page(c.get(location))
    wb = load_workbook(io.BytesIO(c.get(location + "/annote.xlsx").data))
    assert wb["Beneficiaires"]["M4"].comment is not None
    assert counts()[:2] == (6, 1)


def test_two_simultaneous_deposits_never_mix(app, accounts, setup, tmp_path):
    """Two threads deposit for the same contract and year at once: versions 1 and 2 in
    order, or one French refusal — never rows of both under one version."""
    import threading

    from audit.workbooks import service
    from tenders.models import Contract

    data = [write_workbook(tmp_path / f"b{i}.xlsx", siret=SIRET_A, rows=ROWS[: 3 + i]).read_bytes()
            for i in range(2)]
    outcomes, barrier = [], threading.Barrier(2)

    def run(payload):
        with app.app_context():
            contract = db.session.get(Contract, setup)
            result = service.check(payload, contract, 2025)
            barrier.wait()
            try:
                v = service.deposit(result, payload, "b.xlsx", "xlsx", contract, 2025)
                outcomes.append(("ok", v.number, v.row_count))
            except service.DepositRefused as exc:
                outcomes.append(("refus", exc.message, None))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(d,)) for d in data]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    versions = db.session.scalars(select(WorkbookVersion).order_by(WorkbookVersion.number)).all()
    ok = sorted(o for o in outcomes if o[0] == "ok")
    assert [v.number for v in versions] == list(range(1, len(ok) + 1))
    assert sum(v.is_current for v in versions) == 1 and versions[-1].is_current
    for v in versions:  # every version holds exactly its own file's rows
        n = db.session.scalar(select(func.count()).select_from(beneficiary_rows)
                              .where(beneficiary_rows.c.workbook_version_id == v.id))
        assert n == v.row_count
    assert all("autre dépôt" in o[1] for o in outcomes if o[0] == "refus")


def test_annotated_copy_is_capped(app, client_for, setup, tmp_path):
    app.config["WORKBOOK_ANNOTATE_LIMIT"] = 1
    c = client_for("operateur")
    bad = [list(r) for r in ROWS]
    bad[1][4] = "99-100"
    bad[-1][3] = "X"
    location = post_file(c, setup, write_workbook(tmp_path / "bad.xlsx", siret=SIRET_A, rows=bad),
                         "verifier").headers["Location"]
    assert "signale les 1 premiers problèmes seulement" in page(c.get(location))
    wb = load_workbook(io.BytesIO(c.get(location + "/annote.xlsx").data))
    assert wb["Beneficiaires"]["E3"].comment is not None
    assert wb["Beneficiaires"]["D7"].comment is None


def test_annotated_copy_prepared_after_the_report(app, client_for, setup, tmp_path, monkeypatch):
    from audit.workbooks import service
    from tenders.models import Contract

    monkeypatch.setattr(service, "annotate", lambda upload, data, result: None)  # not yet written
    bad = [list(r) for r in ROWS]
    bad[0][3] = "X"
    data = write_workbook(tmp_path / "bad.xlsx", siret=SIRET_A, rows=bad).read_bytes()
    upload = service.create_upload(data, "bad.xlsx", "xlsx", db.session.get(Contract, setup), 2025, None, True)
    upload = service.run_upload(upload.id)
    c = client_for("operateur")
    r = c.get(f"/suivi/bilans/traitements/{upload.id}")
    assert "CODE_INCONNU" in page(r)  # the report is there already
    assert r.headers.get("Refresh") == "2" and "en préparation" in page(r)
    r = c.get(f"/suivi/bilans/traitements/{upload.id}/annote.xlsx", follow_redirects=True)
    assert "en préparation" in page(r)
    monkeypatch.undo()
    service.annotate(upload, data, service.check(data, upload.contract, 2025))
    r = c.get(f"/suivi/bilans/traitements/{upload.id}")
    assert "Refresh" not in r.headers
    assert c.get(f"/suivi/bilans/traitements/{upload.id}/annote.xlsx").status_code == 200
