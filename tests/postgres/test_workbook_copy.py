"""The PostgreSQL import path (one COPY, quality_framework.indicators.insert_frame_rows): every
stored value equals the validated workbook's, NULLs and dates included."""
from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from audit.workbooks import service
from audit.workbooks.generator import generate_workbook
from audit.workbooks.models import beneficiary_rows
from platform_core import create_app
from platform_core.extensions import db
from platform_core.models import Organisation
from quality_framework.indicators import ROW_COLUMNS
from tenders.models import Contract

pytestmark = pytest.mark.postgres


def plain(value):
    """A frame cell as the database gives it back."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value


def test_copy_import_stores_exactly_the_validated_rows(scratch_pg_url, tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": scratch_pg_url, "SCHEDULER_ENABLED": False,
                      "INSTANCE_DIR": str(tmp_path), "UPLOAD_DIR": str(tmp_path / "files")})
    with app.app_context():
        upgrade()
        org = Organisation(siret="99900000001001", name="Opérateur COPY (test)", kind="OPERATEUR",
                           region_code="53")
        db.session.add(org)
        db.session.flush()
        contract = Contract(reference="CEP-COPY-53", operator_id=org.id, region_code="53",
                            starts_on=date(2024, 1, 1), ends_on=date(2027, 12, 31),
                            annual_capacity=1000, annual_price=Decimal("600000"))
        db.session.add(contract)
        db.session.commit()
        data = generate_workbook(siret=org.siret, region_code="53", year=2025, n_rows=400, seed=11)
        result = service.check(data, contract, 2025)
        assert result.valid
        frame = result.beneficiaries
        assert frame["satisfaction"].isna().any() and frame["date_sortie"].isna().any()
        version = service.deposit(result, data, "bilan.xlsx", "xlsx", contract, 2025)
        names = [*ROW_COLUMNS, "row_number"]
        stored = db.session.execute(select(*[beneficiary_rows.c[n] for n in names])
                                    .where(beneficiary_rows.c.workbook_version_id == version.id)
                                    .order_by(beneficiary_rows.c.row_number)).all()
        expected = [tuple(plain(frame.at[i, n]) for n in names) for i in frame.sort_values("row_number").index]
        assert [tuple(r) for r in stored] == expected
        db.engine.dispose()
