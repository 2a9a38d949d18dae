"""Audit operations shared by the views, the jobs, the demo and other domains.

Formulas come from quality_framework (audit_rules, indicators, alerts); this module
only reads and writes rows, checks who may act, and journals every change."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from platform_core import journal
from platform_core.clock import now, today_paris
from platform_core.extensions import db
from platform_core.formatting import fr_number, fr_percent
from platform_core.models import User
from platform_core.roles import ACHETEUR, ADMIN, AUDITEUR, OBSERVATEUR, OPERATEUR
from quality_framework.alerts import evaluate_alerts
from quality_framework.audit_rules import (
    ACTION_TRANSITIONS,
    ActionState,
    AuditState,
    Rating,
    ScoreResult,
    TransitionError,
    audit_score,
    check_transition,
    closure_errors,
    corrective_action_due_date,
    is_overdue,
    submission_errors,
)
from quality_framework.catalog import SCALAR_INDICATORS, WORKBOOK_STATUS
from quality_framework.indicators import Counts, indicators_from_counts
from quality_framework.referential import Referential

from .models import Audit, AuditAssignment, AuditRating, CorrectiveAction, Finding, QualityFile, ReferentialVersion
from .referentials import referential_of

FINAL_STATES = (AuditState.VALIDE.value, AuditState.CLOS.value)


# ---------------------------------------------------------------- access


def is_officer(user) -> bool:
    return user.has_role(ADMIN, ACHETEUR)


def is_audit_auditor(user, audit: Audit) -> bool:
    """Lead or assigned auditor of this audit."""
    if not user.has_role(AUDITEUR):
        return False
    if audit.lead_auditor_id == user.id:
        return True
    return any(a.auditor_id == user.id for a in audit.assignments)


def is_audit_operator(user, audit: Audit) -> bool:
    return user.has_role(OPERATEUR) and user.organisation_id is not None \
        and user.organisation_id == audit.operator_id


def observer_sees(user, audit: Audit) -> bool:
    return user.has_role(OBSERVATEUR) and audit.state in FINAL_STATES and \
        (user.region_code is None or user.region_code == audit.contract.region_code)


def can_see_audit(user, audit: Audit) -> bool:
    return (is_officer(user) or is_audit_auditor(user, audit) or is_audit_operator(user, audit)
            or observer_sees(user, audit))


def can_see_internals(user, audit: Audit) -> bool:
    """Ratings in progress, internal observations and rating evidence."""
    return is_officer(user) or is_audit_auditor(user, audit)


def visible_audits_query(user):
    """SELECT of the audits a user may see in lists (object-level rule)."""
    q = select(Audit)
    if is_officer(user):
        return q
    clauses = []
    if user.has_role(AUDITEUR):
        assigned = select(AuditAssignment.audit_id).where(AuditAssignment.auditor_id == user.id)
        clauses += [Audit.lead_auditor_id == user.id, Audit.id.in_(assigned)]
    if user.has_role(OPERATEUR) and user.organisation_id:
        clauses.append(Audit.operator_id == user.organisation_id)
    if user.has_role(OBSERVATEUR):
        from tenders.models import Contract

        cond = Audit.state.in_(FINAL_STATES)
        if user.region_code:
            in_region = select(Contract.id).where(Contract.region_code == user.region_code)
            cond = cond & Audit.contract_id.in_(in_region)
        clauses.append(cond)
    if not clauses:
        return q.where(False)
    return q.where(or_(*clauses))


# ---------------------------------------------------------------- grid data


def referential_for(audit: Audit) -> Referential:
    return referential_of(audit.referential_version)


def ratings_by_indicator(audit: Audit) -> dict[str, AuditRating]:
    return {r.indicator_id: r for r in audit.ratings}


def score_of(audit: Audit) -> ScoreResult:
    ref = referential_for(audit)
    return audit_score(ref, {r.indicator_id: r.rating for r in audit.ratings if r.rating})


def save_rating(audit: Audit, indicator_id: str, rating: str, observation: str,
                justification: str, expected_version: int | None, user) -> AuditRating:
    """Create or update one rating (caller has checked the texts with rating_errors).
    StaleRating when `expected_version` is not the stored one."""
    row = ratings_by_indicator(audit).get(indicator_id)
    before = None
    if row is None:
        if expected_version not in (None, 0):
            raise StaleRating()
        row = AuditRating(audit=audit, indicator_id=indicator_id)
        db.session.add(row)
    else:
        if expected_version != row.version:
            raise StaleRating()
        before = {"note": row.rating, "observation": row.observation, "justification": row.justification}
    row.rating = rating
    row.observation = observation
    row.justification = justification
    row.updated_by_id = user.id
    row.updated_at = now()
    try:
        db.session.flush()
    except (IntegrityError, StaleDataError):  # saved meanwhile by another auditor
        raise StaleRating() from None
    journal.record("audit_note_enregistree", "audit_qualite", audit.id,
                   f"Indicateur {indicator_id} : {Rating(rating).label}", before=before,
                   after={"note": rating, "observation": observation, "justification": justification})
    return row


class StaleRating(Exception):
    """The rating changed since the form was displayed."""


# ---------------------------------------------------------------- linked figures


@dataclass
class Figure:
    name: str
    label: str
    text: str


def _format(name: str, value: Any) -> str:
    if value is None:
        return "non calculable"
    if name.startswith("taux_"):
        return fr_percent(value)
    if isinstance(value, float) and not value.is_integer():
        return fr_number(value, 1)
    return fr_number(value)


LINK_LABELS = {
    "taux_information_seule": "Part des entrées en information seule",
    "taux_plan_action": "Part des sorties avec plan d'actions",
    "taux_document_synthese": "Taux de remise du document de synthèse",
    "taux_abandon": "Taux d'abandon",
    "taux_parcours_courts": "Part des parcours courts",
    "taux_reponse": "Taux de réponse à l'enquête de sortie",
    "taux_satisfaits": "Taux de bénéficiaires satisfaits",
    "statut_bilan": "Bilan annuel d'activité",
    "repartition.departement": "Entrées par département",
    "repartition.canal": "Entrées par canal (présentiel, distance…)",
    "repartition.rqth": "Entrées par reconnaissance de handicap (RQTH)",
    "moyens.heures_hors_temps_travail_hebdo": "Heures d'ouverture hors temps de travail, par semaine",
    "moyens.delai_moyen_premier_rdv_jours": "Délai moyen d'accès au premier rendez-vous (jours)",
    "moyens.heures_formation_conseillers": "Heures de formation des conseillers",
}


def link_label(name: str) -> str:
    if name in LINK_LABELS:
        return LINK_LABELS[name]
    if name.startswith("repartition."):
        return f"Répartition des entrées par {name.split('.', 1)[1].replace('_', ' ')}"
    if name.startswith("moyens."):
        return f"Moyens déclarés : {name.split('.', 1)[1].replace('_', ' ')}"
    return name.replace("_", " ")


@dataclass
class LinkedFigures:
    year: int | None          # year of the workbook shown (None: no workbook)
    version_number: int | None
    indicators: dict[str, Any]
    means: dict[str, Any]
    alerts: list               # quality_framework.alerts.Alert

    def figures_for(self, links) -> list[Figure]:
        out = []
        for name in links:
            out.append(Figure(name, link_label(name), self.text_of(name)))
        return out

    def alerts_for(self, links) -> list:
        return [a for a in self.alerts if a.indicator in links]

    def text_of(self, name: str) -> str:
        if name == WORKBOOK_STATUS:
            if self.year is None:
                return "aucun bilan déposé"
            return f"bilan {self.year} déposé (version {self.version_number})"
        if self.year is None:
            return "pas de bilan déposé"
        if name in SCALAR_INDICATORS:
            return _format(name, self.indicators.get(name))
        if name.startswith("repartition."):
            dist = self.indicators.get("repartition", {}).get(name.split(".", 1)[1]) or {}
            total = sum(dist.values())
            if not total:
                return "aucune entrée"
            return " ; ".join(f"{code} : {fr_number(n)} ({fr_percent(n / total)})" for code, n in dist.items())
        if name.startswith("moyens."):
            value = self.means.get(name.split(".", 1)[1])
            return "non déclaré" if value is None else _format(name, value)
        return "non disponible"


def linked_figures(contract, year: int) -> LinkedFigures:
    """Figures of the contract's current workbook for `year` (or, if that year's is not
    deposited yet, the latest earlier year, labelled with its year)."""
    from audit.workbooks.models import WorkbookVersion

    wv = db.session.scalar(
        select(WorkbookVersion)
        .where(WorkbookVersion.contract_id == contract.id, WorkbookVersion.is_current.is_(True),
               WorkbookVersion.year <= year)
        .order_by(WorkbookVersion.year.desc()).limit(1))
    if wv is None or wv.counts is None:
        return LinkedFigures(None, None, {}, {}, [])
    values = indicators_from_counts(Counts.from_dict(wv.counts), wv.means, wv.finances,
                                    contract.annual_capacity)
    return LinkedFigures(wv.year, wv.number, values, dict(wv.means or {}),
                         evaluate_alerts(values, campaign_thresholds(wv.year)))


def campaign_thresholds(year: int) -> dict[str, float]:
    """The alert thresholds of the year's campaign (workbook domain), defaults otherwise."""
    try:
        from audit.workbooks.figures import thresholds_for
    except ImportError:  # pragma: no cover - the workbook domain always ships it
        from quality_framework.alerts import DEFAULT_THRESHOLDS

        return dict(DEFAULT_THRESHOLDS)
    return thresholds_for(year)


# ---------------------------------------------------------------- lifecycle


def due_month_params() -> dict[str, int] | None:
    if has_app_context():
        return current_app.config.get("QUALITY_DUE_MONTHS")
    return None


def change_state(audit: Audit, target: str, user, today: date | None = None) -> None:
    """Move an audit, after the rule checks; TransitionError (French) otherwise.
    Validation freezes the score and opens findings and corrective actions."""
    check_transition(audit.state, target)
    before = audit.state
    ref = referential_for(audit)
    if target == AuditState.SOUMIS.value:
        rows = ratings_by_indicator(audit)
        entries = {k: (r.rating, r.observation, r.justification) for k, r in rows.items()}
        errors = submission_errors(ref, entries)
        if errors:
            raise TransitionError("soumission impossible : " + " ; ".join(errors[:5])
                                  + (f" (et {len(errors) - 5} autre(s))" if len(errors) > 5 else ""))
        audit.submitted_at = now()
    elif target == AuditState.VALIDE.value:
        _validate(audit, ref, today or today_paris())
    elif target == AuditState.CLOS.value:
        errors = closure_errors(a.state for a in actions_of(audit))
        if errors:
            raise TransitionError("clôture impossible : " + " ; ".join(errors))
        audit.closed_at = now()
    audit.state = target
    db.session.flush()
    journal.record("audit_etat_change", "audit_qualite", audit.id,
                   f"Audit {audit.id} : {AuditState(before).label} → {AuditState(target).label}",
                   before={"etat": before}, after={"etat": target, "score": audit.score}, actor=user)


def _validate(audit: Audit, ref: Referential, today: date) -> None:
    result = score_of(audit)
    audit.score = result.score
    audit.has_major = result.has_major
    audit.validated_at = now()
    audit.validated_on = today
    rows = ratings_by_indicator(audit)
    params = due_month_params()
    for leaf in ref.leaves():
        row = rows.get(leaf.id)
        if row is None or row.rating not in (Rating.NC_MINEURE.value, Rating.NC_MAJEURE.value):
            continue
        finding = Finding(audit_id=audit.id, indicator_id=leaf.id, indicator_title=leaf.title,
                          rating=row.rating, observation=row.observation)
        db.session.add(finding)
        due = corrective_action_due_date(row.rating, today, params)
        db.session.add(CorrectiveAction(finding=finding, audit_id=audit.id, due_on=due))
    db.session.flush()


def actions_of(audit: Audit) -> list[CorrectiveAction]:
    return list(db.session.scalars(select(CorrectiveAction).where(CorrectiveAction.audit_id == audit.id)
                                   .order_by(CorrectiveAction.id)))


def findings_of(audit: Audit) -> list[Finding]:
    return list(db.session.scalars(select(Finding).where(Finding.audit_id == audit.id).order_by(Finding.id)))


def action_overdue(action: CorrectiveAction, today: date | None = None) -> bool:
    return is_overdue(action.due_on, today or today_paris(), action.state == ActionState.CLOSE.value)


def request_files(req_id: int) -> list[QualityFile]:
    return list(db.session.scalars(select(QualityFile).where(QualityFile.request_id == req_id)))


def action_files(action_id: int) -> list[QualityFile]:
    return list(db.session.scalars(select(QualityFile).where(QualityFile.action_id == action_id)))


def action_steps(action: CorrectiveAction) -> list[tuple[str, str, str]]:
    """(target state, who acts, button label) from the action's current state."""
    return [(to.value, who, label) for (frm, to), (who, label) in ACTION_TRANSITIONS.items()
            if frm.value == action.state]


def close_audit_if_done(audit: Audit, user) -> bool:
    """An audit validated whose corrective actions are all closed becomes « clos »."""
    actions = actions_of(audit)
    if audit.state == AuditState.VALIDE.value and actions and not closure_errors(a.state for a in actions):
        change_state(audit, AuditState.CLOS.value, user)
        return True
    return False


# ---------------------------------------------------------------- creation


def create_audit(contract, year: int, version: ReferentialVersion, lead: User | None, user,
                 planned_start=None, planned_end=None, origin: str = "manuel") -> Audit:
    audit = Audit(contract_id=contract.id, operator_id=contract.operator_id, year=year,
                  referential_version_id=version.id, lead_auditor_id=getattr(lead, "id", None),
                  planned_start=planned_start, planned_end=planned_end, origin=origin,
                  created_by_id=getattr(user, "id", None))
    db.session.add(audit)
    db.session.flush()
    journal.record("audit_cree", "audit_qualite", audit.id,
                   f"Audit {year} du marché {contract.reference} ({origin})",
                   after={"marche": contract.reference, "annee": year, "referentiel": version.number,
                          "auditeur_principal": getattr(lead, "email", None)}, actor=user)
    return audit


def audit_exists(contract_id: int, year: int) -> bool:
    return db.session.scalar(select(Audit.id).where(Audit.contract_id == contract_id, Audit.year == year)) is not None


# ---------------------------------------------------------------- for other domains


def latest_audit_scores(contract_ids) -> dict[int, tuple[float | None, bool]]:
    """{contract_id: (score, has_major)} of the latest validated or closed audit of each
    contract (by year); contracts without one are absent. Score is a fraction in [0, 1]."""
    ids = list(contract_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Audit.contract_id, Audit.year, Audit.score, Audit.has_major)
        .where(Audit.contract_id.in_(ids), Audit.state.in_(FINAL_STATES))
        .order_by(Audit.contract_id, Audit.year)).all()
    result: dict[int, tuple[float | None, bool]] = {}
    for contract_id, _year, score, has_major in rows:
        result[contract_id] = (score, bool(has_major))  # later years overwrite earlier ones
    return result
