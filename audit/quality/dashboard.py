"""Dashboard items of the quality audits, per role."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import func, select

from platform_core.clock import today_paris
from platform_core.extensions import db
from platform_core.roles import ACHETEUR, ADMIN, AUDITEUR, OPERATEUR
from platform_core.ui import Attention, register_dashboard
from quality_framework.audit_rules import ActionState, AuditState

from .models import Audit, CorrectiveAction, DocumentRequest
from .services import visible_audits_query


def _count(q) -> int:
    return db.session.scalar(select(func.count()).select_from(q.subquery())) or 0


def quality_dashboard(user) -> list[Attention]:
    items: list[Attention] = []
    today = today_paris()
    index = url_for("audit.quality.index")
    mine = visible_audits_query(user).with_only_columns(Audit.id)
    overdue = (select(CorrectiveAction.id).where(CorrectiveAction.state != ActionState.CLOSE.value,
                                                 CorrectiveAction.due_on < today))
    if user.has_role(AUDITEUR):
        to_run = _count(visible_audits_query(user).where(
            Audit.state.in_([AuditState.PLANIFIE.value, AuditState.EN_COURS.value])))
        if to_run:
            items.append(Attention("Audits qualité à mener", "Audits planifiés ou en cours dont vous êtes auditeur.",
                                   index + "?etat=en_cours", "info", to_run))
        to_validate = _count(visible_audits_query(user).where(Audit.state == AuditState.SOUMIS.value,
                                                              Audit.lead_auditor_id == user.id))
        if to_validate:
            items.append(Attention("Audits soumis à valider", "Vous êtes auditeur principal.",
                                   index + "?etat=soumis", "warning", to_validate))
        review = _count(select(CorrectiveAction.id).where(
            CorrectiveAction.audit_id.in_(mine),
            CorrectiveAction.state.in_([ActionState.PROPOSEE.value, ActionState.REALISEE.value])))
        if review:
            items.append(Attention("Actions correctives à examiner",
                                   "Propositions ou preuves de réalisation en attente de votre décision.",
                                   index + "?etat=valide", "warning", review))
    if user.has_role(OPERATEUR) and user.organisation_id:
        requests_ = _count(select(DocumentRequest.id).where(DocumentRequest.audit_id.in_(mine),
                                                            DocumentRequest.status == "en_attente"))
        if requests_:
            items.append(Attention("Demandes de documents des auditeurs", "Répondez en déposant les pièces demandées.",
                                   index, "warning", requests_))
        to_do = _count(select(CorrectiveAction.id).where(
            CorrectiveAction.audit_id.in_(mine),
            CorrectiveAction.state.in_([ActionState.A_PROPOSER.value, ActionState.RENVOYEE.value,
                                        ActionState.ACCEPTEE.value])))
        if to_do:
            items.append(Attention("Actions correctives à proposer ou à réaliser",
                                   "Non-conformités relevées par les audits qualité.", index, "warning", to_do))
        late = _count(overdue.where(CorrectiveAction.audit_id.in_(mine)))
        if late:
            items.append(Attention("Actions correctives en retard", "Échéance dépassée.", index, "error", late))
    if user.has_role(ACHETEUR, ADMIN):
        late = _count(overdue)
        if late:
            items.append(Attention("Actions correctives en retard (tous opérateurs)",
                                   "Non-conformités dont l'action corrective a dépassé son échéance.",
                                   url_for("audit.quality.heatmap"), "error", late))
    return items


register_dashboard(quality_dashboard)
