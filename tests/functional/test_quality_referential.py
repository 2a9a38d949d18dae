"""Referential versions in the database: seeding, tree page, xlsx export and import,
a new version never changing a past audit, and the `referential check` CLI."""
from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from audit.quality.models import ReferentialVersion
from platform_core.extensions import db
from tests.conftest import page
from tests.functional.quality_support import make_audit, make_contract


def _edited_export(client, change) -> bytes:
    response = client.get("/suivi/audits/referentiel/1.xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.data))
    change(wb["Référentiel"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _count_versions() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(ReferentialVersion.id)))


def test_tree_page_seeds_v1_and_shows_axes_and_links(client_for):
    text = page(client_for("auditeur").get("/suivi/audits/referentiel"))
    assert "Version 1" in text and "A — Principes d'action" in text
    assert "taux_abandon, taux_parcours_courts" in text  # B6 links
    assert "Preuves attendues" in text
    assert _count_versions() == 1


def test_new_version_does_not_change_a_past_audit(client_for, accounts):
    contract = make_contract(accounts["_orgs"]["op_a"])
    audit = make_audit(contract, 2025, accounts["auditeur"])
    officer = client_for("acheteur")
    before = page(officer.get(f"/suivi/audits/{audit.id}/grille"))
    assert "A1 — Délivrance à l'initiative de la personne" in before

    def change(ws):
        for row in ws.iter_rows(min_row=2):
            if row[0].value == "A1":
                row[2].value = "Initiative de la personne (libellé v2)"
        ws.append(["A8", "A", "Nouvel indicateur v2", "Exigence nouvelle", "Preuves nouvelles", 1, ""])

    data = _edited_export(officer, change)
    response = officer.post("/suivi/audits/referentiel/import",
                            data={"file": (io.BytesIO(data), "ref-v2.xlsx")}, content_type="multipart/form-data")
    assert response.status_code == 302
    assert _count_versions() == 2
    v2 = page(officer.get("/suivi/audits/referentiel?version=2"))
    assert "Initiative de la personne (libellé v2)" in v2 and "A8" in v2

    after = page(officer.get(f"/suivi/audits/{audit.id}/grille"))
    assert "A1 — Délivrance à l'initiative de la personne" in after
    assert "libellé v2" not in after and "Nouvel indicateur v2" not in after
    assert "Référentiel version 1" in after
    # a new audit can use v2
    db.session.expire_all()
    assert db.session.scalar(select(ReferentialVersion.label).where(ReferentialVersion.number == 2))


def test_invalid_import_is_refused_with_rows_named_and_nothing_stored(client_for):
    officer = client_for("admin")

    def change(ws):
        ws.append(["B9", "ZZ", "Parent inconnu", "x", "y", "lourd", "chiffre_inconnu"])

    data = _edited_export(officer, change)
    response = officer.post("/suivi/audits/referentiel/import",
                            data={"file": (io.BytesIO(data), "mauvais.xlsx")}, content_type="multipart/form-data")
    assert response.status_code == 400
    text = page(response)
    assert "Import refusé" in text and "ligne 34" in text
    assert _count_versions() == 1
    # not an xlsx at all
    response = officer.post("/suivi/audits/referentiel/import",
                            data={"file": (io.BytesIO(b"%PDF-1.4 rien"), "x.xlsx")}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Type de fichier non accepté" in page(response)
    assert _count_versions() == 1


def test_only_officers_export_and_import(client_for):
    assert client_for("auditeur").get("/suivi/audits/referentiel/1.xlsx").status_code == 403
    assert client_for("operateur").post("/suivi/audits/referentiel/import", data={}).status_code == 403


def test_cli_check_exit_codes(app, tmp_path):
    from quality_framework.referential import export_referential_xlsx, load_version

    runner = app.test_cli_runner()
    shipped = "quality_framework/referential/versions/v1.yaml"
    result = runner.invoke(args=["referential", "check", shipped])
    assert result.exit_code == 0, result.output
    assert "valide" in result.stdout and "26 indicateurs" in result.stdout

    good_xlsx = tmp_path / "ref.xlsx"
    good_xlsx.write_bytes(export_referential_xlsx(load_version(1)))
    assert runner.invoke(args=["referential", "check", str(good_xlsx)]).exit_code == 0

    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 2\nlabel: x\npublished_on: 2026-01-01\nnodes:\n  - id: A\n    title: t\n", encoding="utf-8")
    result = runner.invoke(args=["referential", "check", str(bad)])
    assert result.exit_code == 1
    assert "référentiel invalide" in result.stderr and "  - " in result.stderr

    other = tmp_path / "ref.txt"
    other.write_text("x")
    result = runner.invoke(args=["referential", "check", str(other)])
    assert result.exit_code == 1 and "non prise en charge" in result.stderr


def test_import_refuses_an_archive_inflating_past_the_bound(client_for, app):
    import zipfile

    officer = client_for("acheteur")
    data = _edited_export(officer, lambda ws: None)
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/zeros.bin", b"\0" * (3 * 1024 * 1024))
    app.config["QUALITY_REFERENTIAL_MAX_INFLATED"] = 2 * 1024 * 1024
    response = officer.post("/suivi/audits/referentiel/import",
                            data={"file": (io.BytesIO(buf.getvalue()), "bombe.xlsx")}, content_type="multipart/form-data")
    assert response.status_code == 400 and "décompressé dépasse 2 Mo" in page(response)
    assert _count_versions() == 1
