"""Dashboard items per role and the closing job."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from platform_core.extensions import db
from platform_core.roles import ACHETEUR, ADMIN, EVALUATEUR, OPERATEUR
from platform_core.scheduler import register_job
from platform_core.ui import Attention, register_dashboard

from .models import Bid, EvaluatorAssignment, Tender
from .services import close_due_tenders


def provider(user) -> list[Attention]:
    items: list[Attention] = []
    tenders = db.session.scalars(select(Tender).where(Tender.status != "ANNULEE")).all()
    if user.has_role(ACHETEUR, ADMIN):
        to_open = [t for t in tenders if t.effective_status() == "CLOTUREE"]
        if to_open:
            items.append(Attention("Consultations à ouvrir", ", ".join(t.reference for t in to_open),
                                   url_for("tenders.show", tender_id=to_open[0].id), "warning", len(to_open)))
        to_rank = [lot for t in tenders if t.status == "EN_EVALUATION" for lot in t.lots if lot.status == "OUVERT"]
        if to_rank:
            items.append(Attention("Lots à classer", f"{len(to_rank)} lot(s) en évaluation",
                                   url_for("tenders.lot_view", lot_id=to_rank[0].id), "info", len(to_rank)))
        to_award = [lot for t in tenders for lot in t.lots if lot.status == "CLASSE"]
        if to_award:
            items.append(Attention("Attributions en attente", f"{len(to_award)} lot(s) classé(s) à attribuer",
                                   url_for("tenders.lot_view", lot_id=to_award[0].id), "info", len(to_award)))
    if user.has_role(EVALUATEUR):
        pending = []
        for a in db.session.scalars(select(EvaluatorAssignment).where(EvaluatorAssignment.user_id == user.id)).all():
            t = a.lot.tender
            if t.status in ("OUVERTE", "EN_EVALUATION") and (a.coi_declared_at is None or (
                    t.status == "EN_EVALUATION" and a.lot.status == "OUVERT" and a.marks_submitted_at is None
                    and t.manual_criteria)):
                pending.append(a)
        if pending:
            items.append(Attention("Lots à évaluer", "Déclaration de conflit d'intérêts ou notes attendues",
                                   url_for("tenders.lot_view", lot_id=pending[0].lot_id), "warning", len(pending)))
    if user.has_role(OPERATEUR) and user.organisation_id:
        open_tenders = [t for t in tenders if t.effective_status() == "PUBLIEE"]
        if open_tenders:
            items.append(Attention("Consultations ouvertes aux offres",
                                   ", ".join(f"{t.reference} (date limite {t.submission_deadline:%d/%m/%Y})" for t in open_tenders),
                                   url_for("tenders.show", tender_id=open_tenders[0].id), "info", len(open_tenders)))
        drafts = [b for b in db.session.scalars(select(Bid).where(
            Bid.operator_id == user.organisation_id, Bid.status == "BROUILLON")).all()
            if b.lot.tender.effective_status() == "PUBLIEE"]
        if drafts:
            items.append(Attention("Offres en brouillon non déposées", "Déposez-les avant la date limite",
                                   url_for("tenders.bid_view", bid_id=drafts[0].id), "warning", len(drafts)))
    return items


def init() -> None:
    register_dashboard(provider)
    register_job("cloture_appels_offres", close_due_tenders, {"minute": "*/5"},
                 "Clôture les consultations dont la date limite de dépôt est passée (journal et notifications).")
