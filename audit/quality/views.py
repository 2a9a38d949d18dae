"""Pages of the quality-audit sub-domain: list, creation, detail and lifecycle.
Grid, follow-up (requests, actions), referential and reports are in sibling modules
registering on the same blueprint."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from wtforms import DateField, IntegerField, SelectField
from wtforms.validators import DataRequired, NumberRange, Optional

from platform_core import journal
from platform_core.extensions import db
from platform_core.forms import FrenchForm, select_choices
from platform_core.models import User, UserRole
from platform_core.roles import ACHETEUR, ADMIN, AUDITEUR, OBSERVATEUR, OPERATEUR, allow
from platform_core.ui import register_nav
from quality_framework.audit_rules import (
    AUDIT_TRANSITIONS,
    AuditState,
    TransitionError,
    allowed_audit_transitions,
)
from tenders.models import Contract

from .models import Audit, AuditAssignment, AuditorConflict, DocumentRequest, ReferentialVersion
from .referentials import all_versions, ensure_seeded
from .services import (
    action_overdue,
    action_files,
    action_steps,
    actions_of,
    audit_exists,
    can_see_audit,
    can_see_internals,
    create_audit,
    findings_of,
    is_audit_auditor,
    request_files,
    is_audit_operator,
    is_officer,
    score_of,
    visible_audits_query,
)

bp = Blueprint("quality", __name__, url_prefix="/audits")
register_nav("Audits qualité", "audit.quality.index", {ADMIN, ACHETEUR, AUDITEUR, OPERATEUR, OBSERVATEUR}, order=40)
EVERYONE = (ADMIN, ACHETEUR, AUDITEUR, OPERATEUR, OBSERVATEUR)


def get_audit_or_404(audit_id: int) -> Audit:
    """The audit if the current user may see it; 404 otherwise (existence is private)."""
    audit = db.session.get(Audit, audit_id)
    if audit is None or not can_see_audit(current_user, audit):
        abort(404)
    return audit


def auditors() -> list[User]:
    return list(db.session.scalars(
        select(User).join(UserRole).where(UserRole.role == AUDITEUR, User.active.is_(True)).order_by(User.full_name)))


def may_transition(user, audit: Audit, target: str) -> bool:
    lead = audit.lead_auditor_id == user.id and user.has_role(AUDITEUR)
    if target == AuditState.EN_COURS.value and audit.state == AuditState.PLANIFIE.value:
        return lead or is_officer(user) or is_audit_auditor(user, audit)
    if target == AuditState.SOUMIS.value:
        return is_audit_auditor(user, audit)
    if target in (AuditState.VALIDE.value, AuditState.EN_COURS.value):
        return lead
    if target == AuditState.CLOS.value:
        return lead or is_officer(user)
    return False


@bp.route("/")
@allow(*EVERYONE)
def index():
    q = visible_audits_query(current_user)
    state = request.args.get("etat", "")
    if state in {s.value for s in AuditState}:
        q = q.where(Audit.state == state)
    year = request.args.get("annee", type=int)
    if year:
        q = q.where(Audit.year == year)
    q = q.options(selectinload(Audit.contract), selectinload(Audit.operator))  # no N+1 (tests/perf)
    audits = list(db.session.scalars(q.order_by(Audit.year.desc(), Audit.id)))
    return render_template("audit/quality/index.html", audits=audits, states=list(AuditState),
                           state=state, year=year, officer=is_officer(current_user))


class AuditForm(FrenchForm):
    contract_id = SelectField("Marché (opérateur, lot)", coerce=int, validators=[DataRequired("Choisissez un marché.")])
    year = IntegerField("Année du marché auditée", validators=[DataRequired("Indiquez l'année."),
                                                            NumberRange(2000, 2100, "Année entre 2000 et 2100.")])
    version_id = SelectField("Version du référentiel", coerce=int, validators=[DataRequired("Choisissez une version.")])
    lead_id = SelectField("Auditeur principal", coerce=int, validators=[DataRequired("Choisissez un auditeur.")])
    planned_start = DateField("Début prévu", validators=[Optional()])
    planned_end = DateField("Fin prévue", validators=[Optional()])


@bp.route("/nouveau", methods=["GET", "POST"])
@allow(ADMIN, ACHETEUR)
def new():
    latest = ensure_seeded()
    db.session.commit()  # v1 may just have been seeded from the shipped file
    form = AuditForm()
    contracts = list(db.session.scalars(select(Contract).where(Contract.status == "ACTIF").order_by(Contract.reference)))
    form.contract_id.choices = select_choices(
        (c.id, f"{c.reference} — {c.operator.name} (région {c.region_code})") for c in contracts)
    form.version_id.choices = select_choices((v.id, f"{v.number} — {v.label}") for v in reversed(all_versions()))
    form.lead_id.choices = select_choices((u.id, f"{u.full_name} <{u.email}>") for u in auditors())
    if request.method == "GET":
        form.version_id.data = latest.id
    if form.validate_on_submit():
        contract = db.session.get(Contract, form.contract_id.data)
        version = db.session.get(ReferentialVersion, form.version_id.data)
        lead = db.session.get(User, form.lead_id.data)
        problems = []
        if not contract.covers_year(form.year.data):
            problems.append(f"Le marché {contract.reference} ne couvre pas l'année {form.year.data} "
                            f"({contract.starts_on.year}–{contract.ends_on.year}).")
        if audit_exists(contract.id, form.year.data):
            problems.append(f"Un audit existe déjà pour le marché {contract.reference} et l'année {form.year.data}.")
        if db.session.scalar(select(AuditorConflict.id).where(AuditorConflict.auditor_id == lead.id,
                                                              AuditorConflict.organisation_id == contract.operator_id)):
            problems.append(f"{lead.full_name} a déclaré un conflit d'intérêts avec {contract.operator.name} : "
                            "choisissez un autre auditeur principal.")
        if form.planned_start.data and form.planned_end.data and form.planned_end.data < form.planned_start.data:
            problems.append("La fin prévue doit suivre le début prévu.")
        if problems:
            for p in problems:
                flash(p, "error")
            return render_template("audit/quality/new.html", form=form), 400
        audit = create_audit(contract, form.year.data, version, lead, current_user,
                             form.planned_start.data, form.planned_end.data)
        db.session.commit()
        flash(f"Audit {audit.year} du marché {contract.reference} planifié.", "success")
        return redirect(url_for("audit.quality.detail", audit_id=audit.id))
    if not contracts:
        flash("Aucun marché actif : créez d'abord un marché.", "warning")
    return render_template("audit/quality/new.html", form=form), (400 if form.errors else 200)


@bp.route("/<int:audit_id>")
@allow(*EVERYONE)
def detail(audit_id: int):
    audit = get_audit_or_404(audit_id)
    internals = can_see_internals(current_user, audit)
    final = audit.state in (AuditState.VALIDE.value, AuditState.CLOS.value)
    operator = is_audit_operator(current_user, audit)
    transitions = [(to, AUDIT_TRANSITIONS[(AuditState(audit.state), to)])
                   for to in allowed_audit_transitions(audit.state)
                   if may_transition(current_user, audit, to.value)]
    requests_ = []
    if internals or operator:
        requests_ = list(db.session.scalars(select(DocumentRequest).where(DocumentRequest.audit_id == audit.id)
                                            .order_by(DocumentRequest.id)))
    show_actions = final and (internals or operator)
    return render_template(
        "audit/quality/detail.html", audit=audit, internals=internals, operator=operator, final=final,
        transitions=transitions, score=score_of(audit) if (internals or final) else None,
        requests=requests_, findings=findings_of(audit) if show_actions else [],
        actions=actions_of(audit) if show_actions else [], overdue=action_overdue,
        is_auditor=is_audit_auditor(current_user, audit), officer=is_officer(current_user),
        all_auditors=auditors() if is_officer(current_user) else [],
        can_report=internals or (operator and final), request_files=request_files,
        action_files=action_files, action_steps=action_steps)


@bp.route("/<int:audit_id>/etat", methods=["POST"])
@allow(ADMIN, ACHETEUR, AUDITEUR)
def transition(audit_id: int):
    audit = get_audit_or_404(audit_id)
    target = request.form.get("to", "")
    if target not in {s.value for s in AuditState}:
        flash(f"État demandé inconnu « {target} ».", "error")
        return redirect(url_for("audit.quality.detail", audit_id=audit.id))
    if not may_transition(current_user, audit, target):
        flash(f"Vous ne pouvez pas faire passer cet audit à l'état « {AuditState(target).label} ».", "error")
        return redirect(url_for("audit.quality.detail", audit_id=audit.id))
    if request.form.get("version", type=int) != audit.version:
        flash("L'audit a été modifié entre-temps par quelqu'un d'autre : vérifiez son état et recommencez.", "error")
        return redirect(url_for("audit.quality.detail", audit_id=audit.id))
    try:
        from .services import change_state

        change_state(audit, target, current_user)
        db.session.commit()
    except TransitionError as exc:
        db.session.rollback()
        flash(f"Changement refusé : {exc}.", "error")
        return redirect(url_for("audit.quality.detail", audit_id=audit_id))
    except StaleDataError:
        db.session.rollback()
        flash("L'audit a été modifié entre-temps par quelqu'un d'autre : vérifiez son état et recommencez.", "error")
        return redirect(url_for("audit.quality.detail", audit_id=audit_id))
    flash(f"Audit passé à l'état « {AuditState(target).label} ».", "success")
    return redirect(url_for("audit.quality.detail", audit_id=audit.id))


@bp.route("/<int:audit_id>/auditeurs", methods=["POST"])
@allow(ADMIN, ACHETEUR)
def assign(audit_id: int):
    audit = get_audit_or_404(audit_id)
    auditor = db.session.get(User, request.form.get("auditor_id", type=int) or 0)
    if auditor is None or not auditor.has_role(AUDITEUR):
        flash("Choisissez un compte ayant le rôle auditeur.", "error")
    elif auditor.id == audit.lead_auditor_id or any(a.auditor_id == auditor.id for a in audit.assignments):
        flash(f"{auditor.full_name} participe déjà à cet audit.", "warning")
    elif audit.lead_auditor_id is None:
        # planned without an eligible auditor: the first one designated becomes the lead
        if db.session.scalar(select(AuditorConflict.id).where(AuditorConflict.auditor_id == auditor.id,
                                                              AuditorConflict.organisation_id == audit.operator_id)):
            flash(f"{auditor.full_name} a déclaré un conflit d'intérêts avec {audit.operator.name}.", "error")
        else:
            audit.lead_auditor_id = auditor.id
            journal.record("audit_auditeur_principal", "audit_qualite", audit.id,
                           f"Auditeur principal désigné : {auditor.email}", before={"auditeur_principal": None},
                           after={"auditeur_principal": auditor.email})
            db.session.commit()
            flash(f"{auditor.full_name} est désigné(e) auditeur principal.", "success")
    else:
        db.session.add(AuditAssignment(audit_id=audit.id, auditor_id=auditor.id))
        journal.record("audit_auditeur_ajoute", "audit_qualite", audit.id, f"Auditeur ajouté : {auditor.email}")
        db.session.commit()
        flash(f"{auditor.full_name} ajouté(e) à l'audit.", "success")
    return redirect(url_for("audit.quality.detail", audit_id=audit.id))


def parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


# Sibling modules add their routes to `bp`; imported last (they import `bp` from here).
from . import dashboard, demo, jobs, views_followup, views_grid, views_referential, views_reports  # noqa: E402,F401
