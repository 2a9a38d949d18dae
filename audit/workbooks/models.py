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


# Outcomes of an upload (check or deposit).
OUTCOMES = {
    "valide": "Vérifié : aucune erreur",
    "refuse": "Refusé : erreurs à corriger",
    "depose": "Déposé",
    "illisible": "Fichier illisible",
    "conflit": "Refusé : un autre dépôt était en cours",
    "erreur": "Erreur technique",
}
JOB_STATUSES = {"queued": "en attente", "running": "en cours", "done": "terminé", "failed": "échoué"}


class WorkbookUpload(db.Model):
    """One upload of a workbook (« vérifier sans déposer » or « déposer ») and the
    background job that checks and possibly imports it. It keeps the report, never the
    rows: refused deposits are listed on the status board from here. The uploaded bytes
    of a refused or checked file live in a temporary directory (see service.py) so the
    operator can download the annotated copy; accepted deposits are in the file store."""

    __tablename__ = "workbook_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    year: Mapped[int]
    dry_run: Mapped[bool] = mapped_column(default=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255), default="")
    kind: Mapped[str] = mapped_column(String(8), default="xlsx")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(10), default="queued")  # JOB_STATUSES
    progress: Mapped[str] = mapped_column(String(200), default="En attente de traitement")
    outcome: Mapped[str | None] = mapped_column(String(10))  # OUTCOMES
    message: Mapped[str] = mapped_column(String(500), default="")
    row_count: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    warning_count: Mapped[int] = mapped_column(default=0)
    report: Mapped[dict | None] = mapped_column(JSON)   # ValidationResult.to_json()
    preview: Mapped[dict | None] = mapped_column(JSON)  # indicators the workbook would give
    version_id: Mapped[int | None] = mapped_column(ForeignKey("workbook_versions.id"))

    contract: Mapped[Contract] = relationship()
    user: Mapped[User | None] = relationship()
    version: Mapped[WorkbookVersion | None] = relationship()

    __table_args__ = (Index("ix_workbook_uploads_contract_year", "contract_id", "year"),)

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome or "", JOB_STATUSES.get(self.status, self.status))

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")


class AlertThresholds(db.Model):
    """Alert thresholds of one campaign (year N), set by officers; absent = defaults."""

    __tablename__ = "workbook_alert_thresholds"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    thresholds: Mapped[dict] = mapped_column(JSON)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=now)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
