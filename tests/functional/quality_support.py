"""Helpers for the quality-audit tests: contracts, audits, workbook figures, ratings."""
from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook

from platform_core.extensions import db
from platform_core.files import store_bytes
from platform_core.models import User
from tenders.models import Contract

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def make_contract(org_id: int, region: str = "53", reference: str = "CEP-2024-53",
                  starts=date(2024, 1, 1), ends=date(2027, 12, 31), status: str = "ACTIF") -> Contract:
    contract = Contract(reference=reference, operator_id=org_id, region_code=region, starts_on=starts,
                        ends_on=ends, annual_capacity=1000, annual_price=500000, status=status)
    db.session.add(contract)
    db.session.commit()
    return contract


def make_audit(contract: Contract, year: int = 2025, lead_id: int | None = None, state: str | None = None):
    from audit.quality.referentials import ensure_seeded
    from audit.quality.services import create_audit

    version = ensure_seeded()
    lead = db.session.get(User, lead_id) if lead_id else None
    audit = create_audit(contract, year, version, lead, None)
    if state:
        audit.state = state
    db.session.commit()
    return audit


def rate(audit, ratings: dict[str, str]) -> None:
    """Store ratings directly (observation/justification filled as required)."""
    from audit.quality.models import AuditRating

    for ind, value in ratings.items():
        db.session.add(AuditRating(audit_id=audit.id, indicator_id=ind, rating=value,
                                   observation="" if value == "CONFORME" else f"constat {ind}",
                                   justification="hors champ" if value == "NON_APPLICABLE" else ""))
    db.session.commit()


def all_leaves():
    from quality_framework.referential import load_version

    return [leaf.id for leaf in load_version(1).leaves()]


def make_workbook(contract: Contract, year: int, counts: dict, means: dict | None = None):
    from audit.workbooks.models import WorkbookVersion

    stored = store_bytes(b"PK\x03\x04fake", "bilan.xlsx", "xlsx")
    db.session.flush()
    wv = WorkbookVersion(contract_id=contract.id, year=year, number=1, is_current=True, stored_file_id=stored.id,
                         counts=counts, means=means or {})
    db.session.add(wv)
    db.session.commit()
    return wv


def xlsx_rows(data: bytes, sheet: str) -> list[tuple]:
    wb = load_workbook(io.BytesIO(data), read_only=True)
    return [tuple(r) for r in wb[sheet].iter_rows(values_only=True)]
