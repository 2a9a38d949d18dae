"""Demo step (order 20): two years (2024, 2025) of activity workbooks for every demo
contract, generated as real .xlsx files and imported through the SAME check and
deposit functions as the upload page. A few operators get an alert profile."""
from __future__ import annotations

import time

from sqlalchemy import select

from platform_core.demo import register_demo_step
from platform_core.extensions import db
from platform_core.models import User, UserRole
from tenders.models import Contract

from . import service
from .generator import HIGH_ABANDON, MANY_SHORT, NORMAL, generate_workbook
from .models import WorkbookVersion

DEMO_YEARS = (2024, 2025)
ROWS_MIN, ROWS_MAX = 400, 1000


def _profile(index: int):
    return {1: HIGH_ABANDON, 4: MANY_SHORT}.get(index % 6, NORMAL)


def load() -> str:
    contracts = list(db.session.scalars(select(Contract).order_by(Contract.id)))
    if not contracts:
        return "aucun marché : aucun bilan créé (chargez d'abord l'étape des appels d'offres)"
    started, versions, rows = time.perf_counter(), 0, 0
    for index, contract in enumerate(contracts):
        uploader = db.session.scalar(select(User).join(UserRole).where(
            User.organisation_id == contract.operator_id, UserRole.role == "operateur"))
        for year in DEMO_YEARS:
            if not contract.covers_year(year):
                continue
            exists = db.session.scalar(select(WorkbookVersion.id).where(
                WorkbookVersion.contract_id == contract.id, WorkbookVersion.year == year))
            if exists:
                continue
            n = max(ROWS_MIN, min(ROWS_MAX, int((contract.annual_capacity or 800) * (1.05 + 0.03 * (year - 2024)))))
            # Declared funding ≈ what France compétences pays; one operator under-declares
            # by 10 % so that the report's 2 % gap flag has something to show.
            funding = float(contract.annual_price) * (0.9 if index % 6 == 2 else 1.0)
            data = generate_workbook(siret=contract.operator.siret, region_code=contract.region_code,
                                     year=year, n_rows=n, seed=contract.id * 10000 + year,
                                     profile=_profile(index), funding=funding)
            result = service.check(data, contract, year)
            if not result.valid:  # never expected: say it rather than hide it
                raise RuntimeError(f"bilan de démonstration invalide ({contract.reference}, {year}) :\n"
                                   + result.to_text(limit=5))
            service.deposit(result, data, f"bilan-{year}-{contract.reference}.xlsx", "xlsx",
                            contract, year, uploader)
            versions += 1
            rows += n
    if not versions:
        return None
    return (f"{versions} bilans importés ({rows} lignes, années {', '.join(map(str, DEMO_YEARS))}) "
            f"en {time.perf_counter() - started:.0f} s")


register_demo_step(20, "bilans d'activité", load)
