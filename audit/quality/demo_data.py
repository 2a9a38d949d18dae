"""Demo audits on the demo contracts (created by the tender step, order 10), in every
state: planifié, en cours (with a document request), soumis, validé with minor and
major findings and corrective actions (one overdue), clos. Idempotent: an audit that
exists for a contract and year is left alone."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from platform_core import journal
from platform_core.clock import now, today_paris
from platform_core.demo import DEMO_DOMAIN, operator_siret
from platform_core.extensions import db
from platform_core.models import Organisation, User
from quality_framework.audit_rules import ActionState, AuditState
from tenders.models import Contract

from .models import AuditRating, DocumentRequest
from .referentials import ensure_seeded, referential_of
from .services import actions_of, audit_exists, change_state, create_audit

OBSERVATIONS = {
    "NC_MAJEURE": "Plusieurs dossiers montrent une orientation systématique vers l'offre de formation de "
                  "l'organisme partenaire, sans alternative présentée au bénéficiaire (constat fictif).",
    "NC_MINEURE": "La pratique existe mais n'est pas formalisée : pas de procédure écrite ni de trace "
                  "systématique dans les dossiers examinés (constat fictif).",
    "NON_APPLICABLE": "Exigence sans objet pour ce marché sur la période auditée (constat fictif).",
}


def _contracts() -> list[Contract]:
    """Active contracts, those of the two demo operator accounts first."""
    contracts = list(db.session.scalars(select(Contract).where(Contract.status == "ACTIF").order_by(Contract.id)))
    firsts = []
    for index in (0, 1):
        org = db.session.scalar(select(Organisation).where(Organisation.siret == operator_siret(index)))
        if org is not None:
            firsts += [c for c in contracts if c.operator_id == org.id][:1]
    return firsts + [c for c in contracts if c not in firsts]


def _rate(audit, overrides: dict[str, str], upto: int | None = None) -> None:
    ref = referential_of(audit.referential_version)
    for i, leaf in enumerate(ref.leaves()):
        if upto is not None and i >= upto:
            break
        rating = overrides.get(leaf.id, "CONFORME")
        db.session.add(AuditRating(
            audit_id=audit.id, indicator_id=leaf.id, rating=rating,
            observation=OBSERVATIONS.get(rating, ""),
            justification="Aucun changement d'opérateur sur le lot pendant la période." if rating == "NON_APPLICABLE" else "",
            updated_by_id=audit.lead_auditor_id))
    db.session.flush()
    db.session.expire(audit, ["ratings"])


def _to_valid(audit, lead, overrides, validated_on: date) -> None:
    _rate(audit, overrides)
    for state in (AuditState.EN_COURS, AuditState.SOUMIS):
        change_state(audit, state.value, lead)
    change_state(audit, AuditState.VALIDE.value, lead, today=validated_on)


def _progress_actions(audit, lead, operator_user, final: ActionState | None) -> None:
    for action in actions_of(audit):
        action.proposal = "Formaliser la procédure, former l'équipe et contrôler un échantillon de dossiers."
        action.state = ActionState.PROPOSEE.value
        if final in (ActionState.ACCEPTEE, ActionState.CLOSE):
            action.state = ActionState.ACCEPTEE.value
        if final is ActionState.CLOSE:
            action.completion_note = "Procédure diffusée et équipe formée (démonstration)."
            action.state = ActionState.CLOSE.value
            action.closed_at = now()
        journal.record("action_corrective_etat", "action_corrective", action.id,
                       f"Démo : action corrective « {action.state_label} »", actor=operator_user)
    db.session.flush()


def load() -> str | None:
    contracts = _contracts()
    if not contracts:
        return "aucun marché actif : aucun audit créé (chargez d'abord l'étape des appels d'offres)"
    version = ensure_seeded()
    leads = [db.session.scalar(select(User).where(User.email == f"{name}@{DEMO_DOMAIN}"))
             for name in ("auditeur", "auditeur2")]
    leads = [u for u in leads if u is not None]
    if not leads:
        return "comptes auditeurs de démonstration absents : aucun audit créé"
    today = today_paris()
    created = 0
    plan = [  # (contract index, year, scenario)
        (0, 2024, "clos"), (0, 2025, "valide_retard"),
        (1, 2024, "valide"), (1, 2025, "soumis"),
        (2, 2025, "en_cours"), (3, 2025, "planifie"), (4, 2025, "valide"), (5, 2025, "planifie"),
    ]
    for index, year, scenario in plan:
        if index >= len(contracts):
            continue
        contract = contracts[index]
        if not contract.covers_year(year) or audit_exists(contract.id, year):
            continue
        lead = leads[(index + year) % len(leads)]
        operator_user = db.session.scalar(select(User).where(User.organisation_id == contract.operator_id))
        audit = create_audit(contract, year, version, lead, None, planned_start=date(year, 4, 1),
                             planned_end=date(year, 6, 30), origin="planification")
        created += 1
        if scenario == "planifie":
            continue
        if scenario == "en_cours":
            change_state(audit, AuditState.EN_COURS.value, lead)
            _rate(audit, {"A3": "NC_MINEURE"}, upto=9)
            db.session.add(DocumentRequest(
                audit_id=audit.id, created_by_id=lead.id, due_on=today + timedelta(days=10),
                text="Merci de déposer la charte d'accueil, le guide d'entretien et trois documents de "
                     "synthèse anonymisés (demande fictive)."))
            continue
        if scenario == "soumis":
            _rate(audit, {"B4": "NC_MINEURE", "F2": "NON_APPLICABLE"})
            change_state(audit, AuditState.EN_COURS.value, lead)
            change_state(audit, AuditState.SOUMIS.value, lead)
            continue
        if scenario == "clos":
            _to_valid(audit, lead, {"D2": "NC_MINEURE", "F2": "NON_APPLICABLE"}, date(year, 6, 30))
            _progress_actions(audit, lead, operator_user, ActionState.CLOSE)
            change_state(audit, AuditState.CLOS.value, lead)
        elif scenario == "valide_retard":
            # validated four months ago: the major action (3 months) is overdue
            _to_valid(audit, lead, {"A5": "NC_MAJEURE", "B4": "NC_MINEURE", "C3": "NC_MINEURE",
                                    "F2": "NON_APPLICABLE"}, today - timedelta(days=122))
            _progress_actions(audit, lead, operator_user, None)
            overdue = actions_of(audit)[0]  # the major one (A5), due one month ago, not yet proposed
            overdue.state, overdue.proposal = ActionState.A_PROPOSER.value, ""
        elif scenario == "valide":
            _to_valid(audit, lead, {"C5": "NC_MINEURE", "E2": "NC_MAJEURE"}, today - timedelta(days=20))
            first = actions_of(audit)[:1]
            for action in first:
                action.proposal = "Mettre en place l'enquête de satisfaction à la sortie (démonstration)."
                action.state = ActionState.PROPOSEE.value
    db.session.flush()
    if not created:
        return None
    return f"{created} audits qualité (planifiés, en cours, soumis, validés avec constats, clos)"
