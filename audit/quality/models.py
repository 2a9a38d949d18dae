"""Tables of the quality-audit sub-domain.

A referential version is stored whole (content = `Referential.to_dict()`): an audit
points at the stored row it used, so importing a new version never changes a past
audit's grid. Ratings carry a `version` column (optimistic locking): two auditors
editing the same indicator never overwrite each other silently."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from platform_core.clock import now
from platform_core.extensions import db
from platform_core.models import Organisation, StoredFile, User
from quality_framework.audit_rules import ACTION_STATE_LABELS, AUDIT_STATE_LABELS, ActionState, AuditState
from tenders.models import Contract


class ReferentialVersion(db.Model):
    __tablename__ = "quality_referential_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    label: Mapped[str] = mapped_column(String(200))
    content: Mapped[dict] = mapped_column(JSON)  # Referential.to_dict()
    fingerprint: Mapped[str] = mapped_column(String(64))
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(default=now)
    source_filename: Mapped[str] = mapped_column(String(255), default="")
    stored_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))

    imported_by: Mapped[User | None] = relationship()


class Audit(db.Model):
    __tablename__ = "quality_audits"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    year: Mapped[int]
    referential_version_id: Mapped[int] = mapped_column(ForeignKey("quality_referential_versions.id"))
    lead_auditor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(12), default=AuditState.PLANIFIE.value, index=True)
    planned_start: Mapped[date | None]
    planned_end: Mapped[date | None]
    origin: Mapped[str] = mapped_column(String(20), default="manuel")  # manuel | planification
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    submitted_at: Mapped[datetime | None]
    validated_at: Mapped[datetime | None]
    validated_on: Mapped[date | None]
    closed_at: Mapped[datetime | None]
    # Frozen at validation (from audit_score with the stored referential).
    score: Mapped[float | None]
    has_major: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)

    contract: Mapped[Contract] = relationship()
    operator: Mapped[Organisation] = relationship()
    referential_version: Mapped[ReferentialVersion] = relationship()
    lead_auditor: Mapped[User | None] = relationship(foreign_keys=[lead_auditor_id])
    assignments: Mapped[list["AuditAssignment"]] = relationship(back_populates="audit", cascade="all, delete-orphan")
    ratings: Mapped[list["AuditRating"]] = relationship(back_populates="audit", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("contract_id", "year", name="uq_quality_audits_contract_year"),)

    @property
    def state_label(self) -> str:
        return AUDIT_STATE_LABELS[AuditState(self.state)]


class AuditAssignment(db.Model):
    """An auditor other than the lead who works on the audit."""

    __tablename__ = "quality_audit_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("quality_audits.id"), index=True)
    auditor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(default=now)

    audit: Mapped[Audit] = relationship(back_populates="assignments")
    auditor: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("audit_id", "auditor_id", name="uq_quality_assignment"),)


class AuditorConflict(db.Model):
    """An auditor's declared conflict of interest with an operator: the planning job
    never makes them lead auditor of that operator's audits."""

    __tablename__ = "quality_auditor_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    auditor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    declared_at: Mapped[datetime] = mapped_column(default=now)
    reason: Mapped[str] = mapped_column(Text, default="")

    auditor: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (UniqueConstraint("auditor_id", "organisation_id", name="uq_quality_conflict"),)


class AuditRating(db.Model):
    __tablename__ = "quality_audit_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("quality_audits.id"), index=True)
    indicator_id: Mapped[str] = mapped_column(String(20))
    rating: Mapped[str | None] = mapped_column(String(20))
    observation: Mapped[str] = mapped_column(Text, default="")
    justification: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=now)
    version: Mapped[int] = mapped_column(default=1)

    audit: Mapped[Audit] = relationship(back_populates="ratings")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("audit_id", "indicator_id", name="uq_quality_rating"),)


class DocumentRequest(db.Model):
    """A request for documents addressed by the auditors to the audited operator."""

    __tablename__ = "quality_document_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("quality_audits.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(12), default="en_attente")  # en_attente | repondue
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    response_text: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None]

    audit: Mapped[Audit] = relationship()

    @property
    def status_label(self) -> str:
        return {"en_attente": "en attente de réponse", "repondue": "répondue"}.get(self.status, self.status)


class Finding(db.Model):
    """A non-conformity recorded when the audit is validated (one per NC rating)."""

    __tablename__ = "quality_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("quality_audits.id"), index=True)
    indicator_id: Mapped[str] = mapped_column(String(20))
    indicator_title: Mapped[str] = mapped_column(Text, default="")
    rating: Mapped[str] = mapped_column(String(20))
    observation: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=now)

    audit: Mapped[Audit] = relationship()
    action: Mapped["CorrectiveAction | None"] = relationship(back_populates="finding", uselist=False)


class CorrectiveAction(db.Model):
    __tablename__ = "quality_corrective_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("quality_findings.id"), unique=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("quality_audits.id"), index=True)
    due_on: Mapped[date]
    state: Mapped[str] = mapped_column(String(12), default=ActionState.A_PROPOSER.value, index=True)
    proposal: Mapped[str] = mapped_column(Text, default="")
    auditor_comment: Mapped[str] = mapped_column(Text, default="")
    completion_note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=now)
    closed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    finding: Mapped[Finding] = relationship(back_populates="action")
    audit: Mapped[Audit] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def state_label(self) -> str:
        return ACTION_STATE_LABELS[ActionState(self.state)]


class QualityFile(db.Model):
    """A file attached to an audit. `purpose` says who may read it:
    preuve_notation (auditors' evidence for a rating: internal), reponse_demande (the
    operator's answer to a document request), preuve_action (evidence of completion of
    a corrective action)."""

    __tablename__ = "quality_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("quality_audits.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    indicator_id: Mapped[str | None] = mapped_column(String(20))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("quality_document_requests.id"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("quality_corrective_actions.id"))
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=now)

    stored_file: Mapped[StoredFile] = relationship()
