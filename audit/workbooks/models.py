"""Workbook versions and their rows. Each accepted upload for a contract and year
is a new version; the newest accepted one is current. The version's additive
indicator counts are stored at import (rows never change), so regional and
national figures are sums of stored counts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from platform_core.clock import now
from platform_core.extensions import db
from platform_core.models import StoredFile, User
from quality_framework.indicators import define_beneficiary_rows_table
from tenders.models import Contract

beneficiary_rows = define_beneficiary_rows_table(db.metadata)


class WorkbookVersion(db.Model):
    __tablename__ = "workbook_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    year: Mapped[int]
    number: Mapped[int]  # 1, 2, … per (contract, year)
    is_current: Mapped[bool] = mapped_column(default=False)
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=now)
    row_count: Mapped[int] = mapped_column(default=0)
    warning_count: Mapped[int] = mapped_column(default=0)
    identification: Mapped[dict | None] = mapped_column(JSON)
    means: Mapped[dict | None] = mapped_column(JSON)       # sheet Moyens
    finances: Mapped[dict | None] = mapped_column(JSON)    # sheet Finances
    counts: Mapped[dict | None] = mapped_column(JSON)      # quality_framework.indicators.Counts.to_dict()

    contract: Mapped[Contract] = relationship()
    stored_file: Mapped[StoredFile] = relationship()
    uploaded_by: Mapped[User | None] = relationship()

    __table_args__ = (
        Index("ix_workbook_versions_contract_year", "contract_id", "year", "number", unique=True),
    )
