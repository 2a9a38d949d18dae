"""What goes between auditors and the audited operator: requests for documents and
their answers, corrective actions (proposal, review, evidence, closure), and the
auditors' declarations of conflicts of interest."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from platform_core import journal
from platform_core.security import upload_rate_limit
from platform_core.clock import now
from platform_core.extensions import db
from platform_core.files import UploadRejected, store_bytes
from platform_core.models import Organisation
from platform_core.roles import ACHETEUR, ADMIN, AUDITEUR, OPERATEUR, allow
from quality_framework.audit_rules import (
    ACTION_TRANSITIONS,
    ActionState,
    AuditState,
    TransitionError,
    check_action_transition,
)

from .models import AuditorConflict, CorrectiveAction, DocumentRequest, QualityFile
from .services import action_files, close_audit_if_done, is_audit_auditor, is_audit_operator, is_officer
from .views import bp, get_audit_or_404, parse_date
from .views_grid import read_evidence

MAX_TEXT = 10_000
REQUEST_STATES = (AuditState.PLANIFIE.value, AuditState.EN_COURS.value, AuditState.SOUMIS.value)


def _detail(audit_id: int, anchor: str = ""):
    return redirect(url_for("audit.quality.detail", audit_id=audit_id) + anchor)


def _attach(audit_id: int, purpose: str, upload, filename: str, **links) -> QualityFile:
    data, kind = upload
    stored = store_bytes(data, filename, kind, current_user)
    db.session.flush()
    record = QualityFile(audit_id=audit_id, purpose=purpose, stored_file_id=stored.id,
                         uploaded_by_id=current_user.id, **links)
    db.session.add(record)
    return record


# ---------------------------------------------------------------- document requests


@bp.route("/<int:audit_id>/demandes", methods=["POST"])
@allow(AUDITEUR)
def new_request(audit_id: int):
    audit = get_audit_or_404(audit_id)
    if not is_audit_auditor(current_user, audit):
        abort(404)
    text = request.form.get("text", "").strip()
    due = parse_date(request.form.get("due_on"))
    problems = []
    if audit.state not in REQUEST_STATES:
        problems.append(f"L'audit est « {audit.state_label} » : plus de demande de documents possible.")
    if not text:
        problems.append("Décrivez les documents demandés à l'opérateur.")
    elif len(text) > MAX_TEXT:
        problems.append(f"La demande dépasse {MAX_TEXT} caractères.")
    if request.form.get("due_on") and due is None:
        problems.append("Date de réponse attendue invalide (format attendu : AAAA-MM-JJ).")
    if problems:
        for p in problems:
            flash(p + " Rien n'a été enregistré.", "error")
        return _detail(audit.id, "#demandes")
    req = DocumentRequest(audit_id=audit.id, text=text, due_on=due, created_by_id=current_user.id)
    db.session.add(req)
    db.session.flush()
    journal.record("audit_demande_documents", "audit_qualite", audit.id, f"Demande de documents n° {req.id}",
                   after={"texte": text, "echeance": due})
    db.session.commit()
    flash("Demande de documents envoyée à l'opérateur.", "success")
    return _detail(audit.id, "#demandes")


@bp.route("/demandes/<int:request_id>/reponse", methods=["POST"])
@allow(OPERATEUR)
@upload_rate_limit
def answer_request(request_id: int):
    req = db.session.get(DocumentRequest, request_id)
    if req is None:
        abort(404)
    audit = get_audit_or_404(req.audit_id)
    if not is_audit_operator(current_user, audit):
        abort(404)
    text = request.form.get("response_text", "").strip()
    problems = []
    upload = None
    try:
        upload = read_evidence(request.files.get("files"))
    except UploadRejected as exc:
        problems.append(f"Fichier refusé : {exc}")
    if not problems and not text and upload is None:
        problems.append("Joignez un fichier ou écrivez une réponse.")
    if len(text) > MAX_TEXT:
        problems.append(f"La réponse dépasse {MAX_TEXT} caractères.")
    if problems:
        for p in problems:
            flash(p + " Rien n'a été enregistré.", "error")
        return _detail(audit.id, "#demandes")
    before = {"statut": req.status}
    if text:
        req.response_text = text
    req.status = "repondue"
    req.answered_by_id = current_user.id
    req.answered_at = now()
    if upload is not None:
        _attach(audit.id, "reponse_demande", upload, request.files["files"].filename, request_id=req.id)
    journal.record("audit_demande_repondue", "audit_qualite", audit.id, f"Réponse à la demande n° {req.id}",
                   before=before, after={"statut": req.status, "texte": text})
    db.session.commit()
    flash("Réponse transmise aux auditeurs.", "success")
    return _detail(audit.id, "#demandes")


# ---------------------------------------------------------------- corrective actions


@bp.route("/actions/<int:action_id>/etat", methods=["POST"])
@allow(AUDITEUR, OPERATEUR)
def action_transition(action_id: int):
    action = db.session.get(CorrectiveAction, action_id)
    if action is None:
        abort(404)
    audit = get_audit_or_404(action.audit_id)
    operator, auditor = is_audit_operator(current_user, audit), is_audit_auditor(current_user, audit)
    if not (operator or auditor):
        abort(404)
    anchor = f"#action-{action.id}"
    target = request.form.get("to", "")
    text = request.form.get("text", "").strip()
    try:
        target_state = ActionState(target)
    except ValueError:
        flash(f"État demandé inconnu « {target} ».", "error")
        return _detail(audit.id, anchor)
    who = ACTION_TRANSITIONS.get((ActionState(action.state), target_state), (None, ""))[0]
    if who == "operator" and not operator or who == "auditor" and not auditor:
        flash("Cette étape revient à " + ("l'opérateur audité." if who == "operator" else "l'auditeur."), "error")
        return _detail(audit.id, anchor)
    if request.form.get("version", type=int) != action.version:
        flash("L'action corrective a été modifiée entre-temps : relisez-la et recommencez.", "error")
        return _detail(audit.id, anchor)
    upload = None
    try:
        upload = read_evidence(request.files.get("evidence")) if operator else None
        if target_state is ActionState.PROPOSEE and not text:
            raise TransitionError("décrivez l'action corrective proposée")
        if len(text) > MAX_TEXT:
            raise TransitionError(f"le texte dépasse {MAX_TEXT} caractères")
        has_evidence = upload is not None or bool(action_files(action.id))
        check_action_transition(action.state, target_state, has_evidence=has_evidence, comment=text)
    except (UploadRejected, TransitionError) as exc:
        message = str(exc)
        flash(f"Action corrective : {message[0].lower() + message[1:]} Rien n'a été enregistré.", "error")
        return _detail(audit.id, anchor)
    before = {"etat": action.state}
    if target_state is ActionState.PROPOSEE:
        action.proposal = text
    elif target_state is ActionState.REALISEE:
        action.completion_note = text
    elif text:
        action.auditor_comment = text
    if upload is not None:
        _attach(audit.id, "preuve_action", upload, request.files["evidence"].filename, action_id=action.id)
    action.state = target_state.value
    action.updated_at = now()
    if target_state is ActionState.CLOSE:
        action.closed_at = now()
    try:
        db.session.flush()
        journal.record("action_corrective_etat", "action_corrective", action.id,
                       f"Action corrective {action.finding.indicator_id} : {action.state_label}",
                       before=before, after={"etat": action.state, "texte": text})
        closed = close_audit_if_done(audit, current_user)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        flash("L'action corrective a été modifiée entre-temps : relisez-la et recommencez.", "error")
        return _detail(audit_id_of(action_id), anchor)
    flash(f"Action corrective « {action.state_label} »." + (" Toutes les actions sont closes : audit clos." if closed else ""),
          "success")
    return _detail(audit.id, anchor)


def audit_id_of(action_id: int) -> int:
    return db.session.scalar(select(CorrectiveAction.audit_id).where(CorrectiveAction.id == action_id))


# ---------------------------------------------------------------- conflicts of interest


@bp.route("/conflits", methods=["GET", "POST"])
@allow(ADMIN, ACHETEUR, AUDITEUR)
def conflicts():
    operators = list(db.session.scalars(select(Organisation).where(Organisation.kind == "OPERATEUR")
                                        .order_by(Organisation.name)))
    if request.method == "POST":
        if not current_user.has_role(AUDITEUR):
            flash("Seul un auditeur déclare ses propres conflits d'intérêts.", "error")
            return redirect(url_for("audit.quality.conflicts"))
        org = db.session.get(Organisation, request.form.get("organisation_id", type=int) or 0)
        reason = request.form.get("reason", "").strip()
        if org is None or org.kind != "OPERATEUR":
            flash("Choisissez l'opérateur concerné. Rien n'a été enregistré.", "error")
        elif not reason:
            flash("Indiquez la nature du conflit d'intérêts. Rien n'a été enregistré.", "error")
        elif db.session.scalar(select(AuditorConflict.id).where(AuditorConflict.auditor_id == current_user.id,
                                                                AuditorConflict.organisation_id == org.id)):
            flash(f"Un conflit avec {org.name} est déjà déclaré.", "warning")
        else:
            conflict = AuditorConflict(auditor_id=current_user.id, organisation_id=org.id, reason=reason[:MAX_TEXT])
            db.session.add(conflict)
            db.session.flush()
            journal.record("auditeur_conflit_declare", "conflit_auditeur", conflict.id,
                           f"Conflit d'intérêts déclaré avec {org.name}", after={"motif": reason})
            db.session.commit()
            flash(f"Conflit d'intérêts avec {org.name} enregistré : vous ne serez plus désigné(e) "
                  "auditeur principal de ses audits.", "success")
        return redirect(url_for("audit.quality.conflicts"))
    q = select(AuditorConflict).order_by(AuditorConflict.declared_at.desc())
    if not is_officer(current_user):
        q = q.where(AuditorConflict.auditor_id == current_user.id)
    return render_template("audit/quality/conflicts.html", conflicts=list(db.session.scalars(q)),
                           operators=operators, can_declare=current_user.has_role(AUDITEUR))
