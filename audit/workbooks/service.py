"""Check and import of activity workbooks: the ONE path used by the upload page, the
background job, the demo and the tests.

    check(data, contract, year)                       -> ValidationResult (may raise UnreadableWorkbook)
    deposit(result, data, filename, kind, contract, year, user) -> WorkbookVersion (all or nothing)
    create_upload(...) / start_upload(...) / run_upload(upload_id)   the job around them

Formulas come from quality_framework (validator, indicators); nothing is recomputed here.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from platform_core import journal
from platform_core.clock import now
from platform_core.extensions import db
from platform_core.files import store_bytes
from quality_framework.indicators import (
    Counts, counts_by_version, counts_from_frame, indicators_from_counts, insert_frame_rows,
)
from quality_framework.workbook import (
    UnreadableWorkbook, ValidationResult, read_workbook, validate_workbook,
)
from tenders.models import Contract

from .models import WorkbookUpload, WorkbookVersion, beneficiary_rows

log = logging.getLogger(__name__)

CONFLICT_MESSAGE = ("Un autre dépôt est en cours pour ce marché et cette année : "
                    "rien n'a été enregistré, recommencez dans un instant.")
UPLOAD_RETENTION_SECONDS = 7 * 24 * 3600  # temporary copies of checked files


class DepositRefused(Exception):
    """The deposit could not be stored; `message` is French."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------- check

def operator_regions(operator_id: int) -> set[str]:
    """Regions of every contract of an operator (allowed `code_region` values)."""
    return set(db.session.scalars(
        select(Contract.region_code).where(Contract.operator_id == operator_id)).all())


def reader_limits() -> dict:
    """Bounds of the workbook reader, from the configuration (platform_core/config.py)."""
    cfg = current_app.config
    return {"max_bytes": cfg["MAX_UPLOAD_BYTES"], "max_uncompressed": cfg["MAX_DECOMPRESSED_BYTES"],
            "max_rows": cfg["MAX_WORKBOOK_ROWS"], "max_cells": cfg["MAX_WORKBOOK_CELLS"]}


def check(data: bytes, contract: Contract, year: int) -> ValidationResult:
    """Every check of the contract, for the operator holding `contract`. The file is
    read once; on a valid workbook each beneficiary carries its spreadsheet row
    (column `row_number`, from the validator)."""
    raw = read_workbook(data, **reader_limits())
    result = validate_workbook(
        raw,
        expected_siret=contract.operator.siret,
        allowed_regions=operator_regions(contract.operator_id),
        year=year,
        contract_region=contract.region_code,
    )
    return result


def preview(result: ValidationResult, year: int, capacity: float | None,
            counts: Counts | None = None) -> dict:
    """Indicators of a valid workbook: from `counts` when it has just been deposited
    (its stored counts), else computed from its rows by the same SQL."""
    if counts is None:
        counts = counts_from_frame(result.beneficiaries, year)
    return indicators_from_counts(counts, result.moyens, result.finances, capacity)


# --------------------------------------------------------------------------- import

def deposit(result: ValidationResult, data: bytes, filename: str, kind: str,
            contract: Contract, year: int, user=None) -> WorkbookVersion:
    """Store a valid workbook as the new current version of (contract, year), in ONE
    transaction: file record, version, every row, counts, journal. Any failure rolls
    everything back. Two concurrent deposits either get numbers n and n+1 in order or
    the second one is refused (unique index on contract, year, number)."""
    if not result.valid:
        raise DepositRefused("Le classeur contient des erreurs : rien n'a été enregistré.")
    contract_id = contract.id
    try:
        stored = store_bytes(data, filename, kind, uploaded_by=user)
        previous = db.session.scalar(
            select(func.max(WorkbookVersion.number))
            .where(WorkbookVersion.contract_id == contract_id, WorkbookVersion.year == year)) or 0
        db.session.execute(
            update(WorkbookVersion)
            .where(WorkbookVersion.contract_id == contract_id, WorkbookVersion.year == year,
                   WorkbookVersion.is_current.is_(True))
            .values(is_current=False))
        version = WorkbookVersion(
            contract_id=contract_id, year=year, number=previous + 1, is_current=True,
            stored_file=stored, uploaded_by_id=getattr(user, "id", None),
            row_count=len(result.beneficiaries), warning_count=len(result.warnings),
            identification=result.identification, means=result.moyens,
            finances=result.finances)
        db.session.add(version)
        db.session.flush()
        insert_frame_rows(db.session.connection(), beneficiary_rows, version.id,
                          result.beneficiaries)
        id_range = db.session.execute(
            select(func.min(beneficiary_rows.c.id), func.max(beneficiary_rows.c.id))
            .where(beneficiary_rows.c.workbook_version_id == version.id)).one()
        counts = counts_by_version(db.session.connection(), beneficiary_rows, [version.id], year,
                                   tuple(id_range) if id_range[0] is not None else None)
        version.counts = counts[version.id].to_dict()
        journal.record(
            "bilan_depose", "bilan", version.id,
            f"Bilan {year} du marché {contract.reference}, version {version.number} "
            f"({version.row_count} lignes, fichier {stored.sha256[:12]}…)",
            before={"version_courante": previous or None},
            after={"version": version.number, "lignes": version.row_count,
                   "sha256": stored.sha256, "avertissements": version.warning_count},
            actor=user)
        db.session.commit()
    except (IntegrityError, OperationalError) as exc:
        db.session.rollback()
        log.warning("dépôt concurrent refusé pour le marché %s/%s : %s", contract_id, year, exc)
        raise DepositRefused(CONFLICT_MESSAGE) from exc
    except Exception:
        db.session.rollback()
        raise
    return version


def version_counts(version: WorkbookVersion) -> Counts:
    """Stored counts of a version (computed again from its rows if missing)."""
    if version.counts:
        return Counts.from_dict(version.counts)
    counts = counts_by_version(db.session.connection(), beneficiary_rows, [version.id], version.year)
    return counts[version.id]


# --------------------------------------------------------------------------- jobs

def upload_dir() -> Path:
    path = Path(current_app.config["INSTANCE_DIR"]) / "workbook_uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def upload_path(upload: WorkbookUpload) -> Path:
    return upload_dir() / f"{upload.id}.bin"


def _purge_old_copies() -> None:
    limit = time.time() - UPLOAD_RETENTION_SECONDS
    for path in upload_dir().glob("*"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            pass


def create_upload(data: bytes, filename: str, kind: str, contract: Contract, year: int,
                  user, dry_run: bool) -> WorkbookUpload:
    """Record the job and keep a temporary copy of the bytes (for the annotated copy)."""
    import hashlib

    upload = WorkbookUpload(contract_id=contract.id, year=year, dry_run=dry_run,
                            user_id=getattr(user, "id", None), filename=filename[:255],
                            kind=kind, sha256=hashlib.sha256(data).hexdigest())
    db.session.add(upload)
    db.session.commit()
    _purge_old_copies()
    upload_path(upload).write_bytes(data)
    return upload


def start_upload(upload_id: int) -> None:
    """Run the job inline (WORKBOOK_IMPORT_SYNC, tests) or in a background thread."""
    app = current_app._get_current_object()
    if app.config.get("WORKBOOK_IMPORT_SYNC"):
        run_upload(upload_id)
        return

    def target():
        with app.app_context():
            try:
                run_upload(upload_id)
            finally:
                db.session.remove()

    threading.Thread(target=target, name=f"bilan-{upload_id}", daemon=True).start()


def _progress(upload: WorkbookUpload, text: str, status: str = "running") -> None:
    upload.progress = text
    upload.status = status
    db.session.commit()


def run_upload(upload_id: int) -> WorkbookUpload:
    """Check (and for a deposit, import) one upload; records the outcome on the job."""
    upload = db.session.get(WorkbookUpload, upload_id)
    upload.started_at = now()
    _progress(upload, "Lecture et vérification du classeur…")
    try:
        data = upload_path(upload).read_bytes()
        contract = upload.contract
        try:
            result = check(data, contract, upload.year)
        except UnreadableWorkbook as exc:
            _finish(upload, "illisible", exc.message)
            return upload
        upload.report = result.to_json()
        upload.row_count = result.lines.get("Beneficiaires", 0)
        upload.error_count, upload.warning_count = len(result.errors), len(result.warnings)
        if not result.valid:
            _finish(upload, "refuse", f"{len(result.errors)} erreur(s) à corriger : rien n'a été enregistré.")
            annotate(upload, data, result)
            return upload
        if upload.dry_run:
            _progress(upload, f"Calcul des indicateurs sur {upload.row_count} lignes…")
            upload.preview = _jsonable(preview(result, upload.year, contract.annual_capacity))
            _finish(upload, "valide", "Aucune erreur : le classeur peut être déposé. Rien n'a été enregistré.")
            annotate(upload, data, result)
            return upload
        # A deposit computes its counts once, in the database, as part of the import;
        # the preview shown afterwards is made of those stored counts.
        _progress(upload, f"Enregistrement des {upload.row_count} lignes et calcul des indicateurs…")
        capacity, user = contract.annual_capacity, upload.user
        try:
            version = deposit(result, data, upload.filename, upload.kind, contract, upload.year, user)
        except DepositRefused as exc:
            upload = db.session.get(WorkbookUpload, upload_id)
            _finish(upload, "conflit", exc.message)
            return upload
        counts = Counts.from_dict(version.counts)
        upload = db.session.get(WorkbookUpload, upload_id)
        upload.version_id = version.id
        upload.preview = _jsonable(preview(result, upload.year, capacity, counts))
        _finish(upload, "depose", f"Bilan déposé : version {version.number}, {version.row_count} lignes.")
        annotate(upload, data, result)
        return upload
    except Exception:  # a bug must not leave the job « en cours » forever
        log.exception("traitement du bilan %s en échec", upload_id)
        db.session.rollback()
        upload = db.session.get(WorkbookUpload, upload_id)
        upload.status, upload.outcome = "failed", "erreur"
        upload.message = "Erreur technique pendant le traitement : rien n'a été enregistré. Réessayez ou contactez le support."
        upload.finished_at = now()
        db.session.commit()
        return upload


# --------------------------------------------------------------------------- annotated copy

ANNOTATE_LIMIT = 5_000


def annotated_path(upload: WorkbookUpload) -> Path:
    return upload_dir() / f"{upload.id}-annote.xlsx"


def annotation_state(upload: WorkbookUpload) -> str | None:
    """None (nothing to annotate), "pending", "ready" or "failed"."""
    if not upload.finished or not (upload.error_count or upload.warning_count):
        return None
    if annotated_path(upload).exists():
        return "ready"
    if annotated_path(upload).with_suffix(".failed").exists() or not upload_path(upload).exists():
        return "failed"
    return "pending"


def annotate(upload: WorkbookUpload, data: bytes, result: ValidationResult) -> None:
    """Write the operator's workbook with faulty cells highlighted and commented, AFTER
    the report is visible: loading and saving a big workbook with openpyxl takes
    minutes (docs/performance-workbooks.md), so it never delays the report. Past
    WORKBOOK_ANNOTATE_LIMIT problems only the first ones are marked (the JSON has all)."""
    if not (result.errors or result.warnings):
        return
    from quality_framework.workbook.annotate import annotated_workbook

    limit = current_app.config.get("WORKBOOK_ANNOTATE_LIMIT", ANNOTATE_LIMIT)
    capped = ValidationResult(errors=result.errors[:limit],
                              warnings=result.warnings[:max(0, limit - len(result.errors))],
                              lines=result.lines)
    final = annotated_path(upload)
    try:
        tmp = final.with_suffix(".part")
        tmp.write_bytes(annotated_workbook(data, capped))
        os.replace(tmp, final)
    except Exception:  # the report stays usable; the page says the copy failed
        log.exception("classeur annoté du dépôt %s en échec", upload.id)
        final.with_suffix(".failed").write_text("échec", encoding="utf-8")


def _finish(upload: WorkbookUpload, outcome: str, message: str) -> None:
    upload.outcome, upload.message = outcome, message[:500]
    upload.status, upload.progress, upload.finished_at = "done", "Terminé", now()
    if not upload.dry_run and outcome != "depose":
        journal.record("bilan_depot_refuse", "bilan_depot", upload.id,
                       f"Dépôt du bilan {upload.year} refusé ({outcome}) : {message[:200]}",
                       after={"erreurs": upload.error_count, "fichier": upload.filename},
                       actor=upload.user)
    db.session.commit()


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value
