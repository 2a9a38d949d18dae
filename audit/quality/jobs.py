"""Periodic jobs of the quality audits.

- `planification_audits`: from the planning day of year N (AUDIT_PLANNING_DAY, "MM-DD",
  default "03-01"), every active contract covering N gets its audit for year N, with
  a lead auditor by rotation among auditors without a declared conflict with the
  operator. Idempotent: an audit already present for (contract, year) is skipped,
  and the unique constraint on (contract_id, year) backs the check.
- `actions_correctives_echeances`: corrective actions due within 15 days, and overdue
  ones, are notified to the operator's users and the lead auditor, once per action
  and stage (notification key)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from platform_core.clock import to_paris
from platform_core.extensions import db
from platform_core.models import User, UserRole
from platform_core.notifications import notify
from platform_core.roles import AUDITEUR, OPERATEUR
from platform_core.scheduler import register_job
from quality_framework.audit_rules import ActionState
from tenders.models import Contract

from .models import Audit, AuditorConflict, CorrectiveAction
from .referentials import ensure_seeded
from .services import audit_exists, create_audit

DEFAULT_PLANNING_DAY = "03-01"
REMINDER_DAYS = 15


class PlanningDayError(ValueError):
    pass


def planning_day(year: int) -> date:
    raw = str(current_app.config.get("AUDIT_PLANNING_DAY", DEFAULT_PLANNING_DAY))
    try:
        month, day = (int(p) for p in raw.split("-"))
        return date(year, month, day)
    except ValueError:
        raise PlanningDayError(f"AUDIT_PLANNING_DAY invalide « {raw} » (attendu MM-JJ, par exemple 03-01)") from None


def eligible_auditors() -> list[User]:
    return list(db.session.scalars(select(User).join(UserRole).where(
        UserRole.role == AUDITEUR, User.active.is_(True)).order_by(User.id)))


def pick_lead(operator_id: int, year: int, auditors: list[User]) -> User | None:
    """Rotation: among auditors without a conflict with the operator, the one leading
    the fewest audits of the year (ties: lowest id), so audits go round in turn."""
    conflicted = set(db.session.scalars(select(AuditorConflict.auditor_id)
                                        .where(AuditorConflict.organisation_id == operator_id)))
    candidates = [a for a in auditors if a.id not in conflicted]
    if not candidates:
        return None
    loads = dict(db.session.execute(select(Audit.lead_auditor_id, func.count(Audit.id))
                                    .where(Audit.year == year).group_by(Audit.lead_auditor_id)).all())
    return min(candidates, key=lambda a: (loads.get(a.id, 0), a.id))


def plan_audits(at: datetime) -> dict:
    today = to_paris(at).date()
    year = today.year
    if today < planning_day(year):
        return {"annee": year, "crees": 0, "deja_presents": 0, "avant_date": 1}
    version = ensure_seeded()
    auditors = eligible_auditors()
    contracts = db.session.scalars(select(Contract).where(Contract.status == "ACTIF").order_by(Contract.id))
    created = existing = without_lead = 0
    nested = db.session.get_bind().dialect.name != "sqlite"
    for contract in contracts:
        if not contract.covers_year(year):
            continue
        if audit_exists(contract.id, year):
            existing += 1
            continue
        lead = pick_lead(contract.operator_id, year, auditors)
        if nested:
            try:
                with db.session.begin_nested():
                    create_audit(contract, year, version, lead, None, origin="planification")
            except IntegrityError:  # created meanwhile by another run: the constraint wins
                existing += 1
                continue
        else:  # SQLite: a single writer at a time, and pysqlite savepoints are unreliable
            create_audit(contract, year, version, lead, None, origin="planification")
        created += 1
        without_lead += lead is None
    db.session.commit()
    return {"annee": year, "crees": created, "deja_presents": existing, "sans_auditeur": without_lead}


def action_deadlines(at: datetime) -> dict:
    today = to_paris(at).date()
    soon_limit = today + timedelta(days=REMINDER_DAYS)
    actions = db.session.scalars(select(CorrectiveAction).where(
        CorrectiveAction.state != ActionState.CLOSE.value, CorrectiveAction.due_on <= soon_limit))
    soon = late = sent = 0
    for action in actions:
        audit = action.audit
        stage = "retard" if today > action.due_on else "j15"
        if stage == "retard":
            late += 1
            subject = f"Action corrective en retard ({action.finding.indicator_id}, échéance {action.due_on:%d/%m/%Y})"
        else:
            soon += 1
            subject = f"Action corrective à échéance le {action.due_on:%d/%m/%Y} ({action.finding.indicator_id})"
        users = list(db.session.scalars(select(User).join(UserRole).where(
            User.organisation_id == audit.operator_id, UserRole.role == OPERATEUR, User.active.is_(True))))
        if audit.lead_auditor is not None:
            users.append(audit.lead_auditor)
        body = (f"Audit qualité {audit.year} du marché {audit.contract.reference} : l'action corrective sur "
                f"l'indicateur {action.finding.indicator_id} est « {action.state_label} », "
                f"échéance le {action.due_on:%d/%m/%Y}.")
        sent += notify(users, subject, body, link=f"/suivi/audits/{audit.id}#action-{action.id}",
                       key=f"qualite-action-{action.id}-{stage}")
    return {"a_echeance": soon, "en_retard": late, "notifications": sent}


register_job("planification_audits", plan_audits, trigger={"hour": 6, "minute": 0},
             description="Crée l'audit qualité annuel de chaque marché actif (à partir de la date de planification).")
register_job("actions_correctives_echeances", action_deadlines, trigger={"hour": 7, "minute": 0},
             description="Rappelle les actions correctives à échéance sous 15 jours et signale celles en retard.")
