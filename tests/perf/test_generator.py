"""The benchmark's synthetic rows must be valid workbooks: otherwise the figures would
measure data the platform can never hold."""
from __future__ import annotations

import numpy as np
import pandas as pd

from bench.generate_dataset import build_dataset, generate_rows
from platform_core.demo import demo_siret
from quality_framework.indicators import ROW_COLUMNS
from quality_framework.reference import regions
from quality_framework.workbook.reader import RawWorkbook
from quality_framework.workbook.validator import validate_workbook


def _grid(header: list[str], rows: list[list]) -> pd.DataFrame:
    return pd.DataFrame([header] + rows, dtype=object)


def test_generated_rows_pass_the_workbook_validator():
    deps = regions()["53"].departements
    all_deps = [d for r in regions().values() for d in r.departements]
    df = generate_rows(np.random.default_rng(7), 3000, 2025, deps, all_deps, prefix="T-")
    rows = df[list(ROW_COLUMNS)].astype(object).where(df[list(ROW_COLUMNS)].notna(), "")
    siret = demo_siret(5000)
    sheets = {
        "Identification": _grid(["champ", "valeur"], [["siret", siret], ["code_region", "53"],
                                                      ["annee", "2025"],
                                                      ["contact_email", "contact@bench.example.fr"]]),
        "Beneficiaires": _grid(list(ROW_COLUMNS), [[str(v) for v in r] for r in rows.values.tolist()]),
        "Moyens": _grid(["champ", "valeur"], [["etp_conseillers", "3"], ["nb_conseillers", "4"],
                                              ["nb_sites_permanents", "1"], ["nb_lieux_permanence", "2"],
                                              ["heures_formation_conseillers", "60"],
                                              ["heures_hors_temps_travail_hebdo", "6"],
                                              ["delai_moyen_premier_rdv_jours", "9"]]),
        "Finances": _grid(["poste", "montant_eur"], [["PERSONNEL", "100000"]]),
    }
    result = validate_workbook(RawWorkbook("xlsx", sheets), expected_siret=siret,
                               allowed_regions={"53"}, year=2025, contract_region="53")
    assert result.errors == []
    # plausible distributions
    assert 0.55 < (df.sexe == "F").mean() < 0.65
    assert 0.62 < df.date_sortie.notna().mean() < 0.78


def test_build_dataset_stores_counts_like_the_import(app):
    from sqlalchemy import select

    from audit.workbooks.models import WorkbookVersion, beneficiary_rows
    from audit.workbooks.service import version_counts
    from platform_core.extensions import db
    from quality_framework.indicators import counts_by_version

    info = build_dataset(4000, 3, [2024, 2025], log=lambda *_: None)
    assert info["contracts"] == 3
    versions = db.session.scalars(select(WorkbookVersion)).all()
    assert sum(v.row_count for v in versions) == info["rows"]
    for v in versions:
        fresh = counts_by_version(db.session.connection(), beneficiary_rows, [v.id], v.year)[v.id]
        assert version_counts(v) == fresh
    # one current version per (contract, year)
    current = {(v.contract_id, v.year) for v in versions if v.is_current}
    assert len(current) == sum(1 for v in versions if v.is_current) == 6
