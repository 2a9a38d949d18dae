"""Tender tables. `Contract` is defined here first because every other domain
(workbooks, fund use, audits) hangs off it; the tender issue adds Tender, Lot,
Bid, evaluation and award tables beside it."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from platform_core.clock import now
from platform_core.extensions import db
from platform_core.models import Organisation

CONTRACT_STATUSES = {"ACTIF": "actif", "TERMINE": "terminé", "RESILIE": "résilié"}


class Contract(db.Model):
    """A regional CEP contract awarded to an operator for a lot and a period."""

    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # The lot's region (INSEE code); lots grouping regions use their first region.
    region_code: Mapped[str] = mapped_column(String(3), index=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("tender_lots.id"))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    annual_capacity: Mapped[int]
    annual_price: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    fixed_share: Mapped[float] = mapped_column(default=0.8)
    variable_share: Mapped[float] = mapped_column(default=0.2)
    satisfaction_target: Mapped[float] = mapped_column(default=0.85)
    status: Mapped[str] = mapped_column(String(10), default="ACTIF")
    created_at: Mapped[datetime] = mapped_column(default=now)
    version: Mapped[int] = mapped_column(default=1)

    operator: Mapped[Organisation] = relationship()

    __mapper_args__ = {"version_id_col": version}

    def covers_year(self, year: int) -> bool:
        return self.starts_on.year <= year <= self.ends_on.year

    @property
    def status_label(self) -> str:
        return CONTRACT_STATUSES.get(self.status, self.status)


# --------------------------------------------------------------------------- tender

from sqlalchemy import JSON, Text, UniqueConstraint  # noqa: E402

from platform_core.models import StoredFile, User  # noqa: E402

# Stored status → French label. CLOTUREE is also *derived* from the clock
# (see Tender.effective_status): a published tender past its deadline is closed
# even if the closing job has not run yet.
TENDER_STATUSES = {
    "BROUILLON": "brouillon", "PUBLIEE": "publiée", "CLOTUREE": "clôturée",
    "OUVERTE": "ouverte", "EN_EVALUATION": "en évaluation", "CLASSEE": "classée",
    "ATTRIBUEE": "attribuée", "ANNULEE": "annulée",
}
LOT_STATUSES = {"OUVERT": "ouvert", "CLASSE": "classé", "ATTRIBUE": "attribué",
                "INFRUCTUEUX": "infructueux"}
BID_STATUSES = {"BROUILLON": "brouillon", "DEPOSEE": "déposée", "RETIREE": "retirée"}
DEFAULT_DOCUMENTS = ["Mémoire technique", "DC1 / DUME", "Attestation fiscale", "Attestation sociale"]
CREFOP_OPINIONS = {"FAVORABLE": "favorable", "RESERVE": "réservé", "DEFAVORABLE": "défavorable"}


class Tender(db.Model):
    __tablename__ = "tenders"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    period_start: Mapped[date]
    period_end: Mapped[date]
    # Calendar, naive UTC.
    publication_at: Mapped[datetime]
    questions_deadline: Mapped[datetime]
    submission_deadline: Mapped[datetime]
    opening_at: Mapped[datetime]
    # {criterion code: weight}; automatic criteria + manual ones (sum 100).
    weights: Mapped[dict] = mapped_column(JSON)
    # [{"code": "METHODO", "label": "Qualité de la méthodologie"}]
    manual_criteria: Mapped[list] = mapped_column(JSON, default=list)
    parameters: Mapped[dict] = mapped_column(JSON)
    mandatory_documents: Mapped[list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="BROUILLON")
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # Set by the closing job (or the first reader after the deadline): idempotence.
    closing_recorded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)
    version: Mapped[int] = mapped_column(default=1)

    lots: Mapped[list["Lot"]] = relationship(back_populates="tender", order_by="Lot.number",
                                             cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    def effective_status(self, at: datetime | None = None) -> str:
        at = at or now()
        if self.status == "PUBLIEE" and at >= self.submission_deadline:
            return "CLOTUREE"
        return self.status

    @property
    def status_label(self) -> str:
        return TENDER_STATUSES[self.effective_status()]

    def is_sealed(self, at: datetime | None = None) -> bool:
        """Bids are sealed until the submission deadline (and forever for drafts)."""
        return (at or now()) < self.submission_deadline

    def manual_codes(self) -> list[str]:
        return [c["code"] for c in self.manual_criteria or []]


class Lot(db.Model):
    __tablename__ = "tender_lots"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    region_codes: Mapped[list] = mapped_column(JSON)
    annual_demand: Mapped[int]
    # {département: weight} or None (equal weights).
    departement_weights: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="OUVERT")
    crefop_opinion: Mapped[str | None] = mapped_column(String(20))
    crefop_date: Mapped[date | None]
    crefop_text: Mapped[str | None] = mapped_column(Text)
    decision_text: Mapped[str | None] = mapped_column(Text)
    awarded_bid_id: Mapped[int | None]
    version: Mapped[int] = mapped_column(default=1)

    tender: Mapped[Tender] = relationship(back_populates="lots")
    bids: Mapped[list["Bid"]] = relationship(back_populates="lot", order_by="Bid.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return LOT_STATUSES[self.status]

    def departements(self) -> list[str]:
        from quality_framework.reference import regions

        regs = regions()
        return [d for code in self.region_codes for d in regs[code].departements]


class Bid(db.Model):
    __tablename__ = "tender_bids"
    __table_args__ = (UniqueConstraint("lot_id", "operator_id", name="uq_bid_lot_operator"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("tender_lots.id"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="BROUILLON")
    # Structured answers, keys of quality_framework.scoring.BidAnswers.
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    neutrality_declared: Mapped[bool] = mapped_column(default=False)
    submitted_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=now)
    # [[code, reason], …] computed at opening; officer's confirmed verdict.
    auto_admissibility: Mapped[list | None] = mapped_column(JSON)
    admissible: Mapped[bool | None]
    admissibility_reason: Mapped[str | None] = mapped_column(Text)
    # Frozen when the lot is ranked.
    final_rank: Mapped[int | None]
    final_total: Mapped[float | None]
    version: Mapped[int] = mapped_column(default=1)

    lot: Mapped[Lot] = relationship(back_populates="bids")
    operator: Mapped[Organisation] = relationship()
    documents: Mapped[list["BidDocument"]] = relationship(back_populates="bid", order_by="BidDocument.id",
                                                          cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return BID_STATUSES[self.status]


class BidDocument(db.Model):
    __tablename__ = "tender_bid_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("tender_bids.id"), index=True)
    doc_type: Mapped[str] = mapped_column(String(120))
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))

    bid: Mapped[Bid] = relationship(back_populates="documents")
    stored_file: Mapped[StoredFile] = relationship()


class TenderQuestion(db.Model):
    __tablename__ = "tender_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    # Never shown to anyone but officers: answers are published anonymised.
    asked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    asked_at: Mapped[datetime] = mapped_column(default=now)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]


class EvaluatorAssignment(db.Model):
    __tablename__ = "tender_evaluators"
    __table_args__ = (UniqueConstraint("lot_id", "user_id", name="uq_evaluator_lot_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("tender_lots.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    coi_declared_at: Mapped[datetime | None]
    coi_statement: Mapped[str | None] = mapped_column(Text)
    marks_submitted_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    lot: Mapped[Lot] = relationship()


class ManualMark(db.Model):
    """One evaluator's 0–4 mark on one manual criterion of one bid (evaluator_id),
    or the moderator's final mark (evaluator_id None, is_moderation)."""

    __tablename__ = "tender_manual_marks"
    __table_args__ = (UniqueConstraint("bid_id", "criterion", "evaluator_id", "is_moderation",
                                       name="uq_mark"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("tender_bids.id"), index=True)
    criterion: Mapped[str] = mapped_column(String(40))
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    is_moderation: Mapped[bool] = mapped_column(default=False)
    mark: Mapped[float]
    justification: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=now)
    version: Mapped[int] = mapped_column(default=1)

    evaluator: Mapped[User] = relationship()

    __mapper_args__ = {"version_id_col": version}
