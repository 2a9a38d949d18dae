"""The audit grid: axes and indicators of the audit's stored referential version, one
form per indicator (rating, observation, justification, evidence file), the linked
workbook figures and their alerts beside each indicator."""
from __future__ import annotations

import io

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from platform_core import journal
from platform_core.security import upload_rate_limit
from platform_core.extensions import db
from platform_core.files import UploadRejected, read_stored, read_upload, store_bytes
from platform_core.roles import ACHETEUR, ADMIN, AUDITEUR, OPERATEUR, allow
from quality_framework.audit_rules import AUDIT_EDITABLE_STATES, RATING_LABELS, AuditState, Rating, rating_errors

from .models import QualityFile
from .services import (
    StaleRating,
    can_see_internals,
    is_audit_auditor,
    is_audit_operator,
    linked_figures,
    ratings_by_indicator,
    referential_for,
    save_rating,
    score_of,
)
from .views import bp, get_audit_or_404

EVIDENCE_KINDS = ("pdf", "docx", "odt", "xlsx", "ods", "png", "jpeg")
DEFAULT_EVIDENCE_MAX_BYTES = 10 * 1024 * 1024


def evidence_max_bytes() -> int:
    return int(current_app.config.get("QUALITY_EVIDENCE_MAX_BYTES", DEFAULT_EVIDENCE_MAX_BYTES))


def read_evidence(file_storage) -> tuple[bytes, str] | None:
    """None when no file was chosen; UploadRejected (French) for a bad one."""
    if file_storage is None or not file_storage.filename:
        return None
    return read_upload(file_storage, EVIDENCE_KINDS, evidence_max_bytes())


def _grid_context(audit, errors=None, submitted=None):
    ref = referential_for(audit)
    rows = ratings_by_indicator(audit)
    figures = linked_figures(audit.contract, audit.year)
    files: dict[str, list[QualityFile]] = {}
    for f in db.session.scalars(select(QualityFile).where(QualityFile.audit_id == audit.id,
                                                          QualityFile.purpose == "preuve_notation")
                                .order_by(QualityFile.id)):
        files.setdefault(f.indicator_id, []).append(f)
    axes = []
    for axis in ref.axes():
        leaves = []
        for leaf in axis.iter_leaves():
            leaves.append({"node": leaf, "row": rows.get(leaf.id), "figures": figures.figures_for(leaf.links),
                           "alerts": figures.alerts_for(leaf.links), "files": files.get(leaf.id, [])})
        axes.append({"node": axis, "leaves": leaves})
    editable = is_audit_auditor(current_user, audit) and AuditState(audit.state) in AUDIT_EDITABLE_STATES
    return dict(audit=audit, ref=ref, axes=axes, figures=figures, score=score_of(audit), editable=editable,
                ratings=list(Rating), rating_labels=RATING_LABELS, errors=errors or {},
                submitted=submitted or {}, max_mb=evidence_max_bytes() // (1024 * 1024))


@bp.route("/<int:audit_id>/grille")
@allow(ADMIN, ACHETEUR, AUDITEUR)
def grid(audit_id: int):
    audit = get_audit_or_404(audit_id)
    if not can_see_internals(current_user, audit):
        abort(404)
    return render_template("audit/quality/grid.html", **_grid_context(audit))


@bp.route("/<int:audit_id>/grille/<indicator_id>", methods=["POST"])
@allow(AUDITEUR)
@upload_rate_limit
def rate(audit_id: int, indicator_id: str):
    audit = get_audit_or_404(audit_id)
    if not is_audit_auditor(current_user, audit):
        abort(404)
    ref = referential_for(audit)
    if indicator_id not in ref or not ref.node(indicator_id).is_leaf:
        abort(404)
    back = url_for("audit.quality.grid", audit_id=audit.id) + f"#ind-{indicator_id}"
    if AuditState(audit.state) not in AUDIT_EDITABLE_STATES:
        flash(f"L'audit est « {audit.state_label} » : les notes ne peuvent plus être modifiées.", "error")
        return redirect(back)
    rating = request.form.get("rating", "").strip()
    observation = request.form.get("observation", "").strip()
    justification = request.form.get("justification", "").strip()
    submitted = {"rating": rating, "observation": observation, "justification": justification}
    errors = rating_errors(rating or None, observation, justification)
    upload = None
    try:
        upload = read_evidence(request.files.get("evidence"))
    except UploadRejected as exc:
        errors.append(f"pièce justificative refusée : {exc}")
    if errors:
        messages = [e[0].upper() + e[1:] + ("" if e.endswith(".") else ".") for e in errors]
        ctx = _grid_context(audit, errors={indicator_id: messages}, submitted={indicator_id: submitted})
        flash(f"Indicateur {indicator_id} : rien n'a été enregistré. " + " ".join(messages), "error")
        return render_template("audit/quality/grid.html", **ctx), 400
    try:
        save_rating(audit, indicator_id, rating, observation, justification,
                    request.form.get("version", type=int) or 0, current_user)
    except StaleRating:
        db.session.rollback()
        flash(f"Indicateur {indicator_id} : la note a été modifiée entre-temps par un autre auditeur. "
              "Relisez-la ci-dessous puis enregistrez à nouveau ; votre saisie n'a pas été enregistrée.", "error")
        return redirect(back)
    if upload is not None:
        data, kind = upload
        stored = store_bytes(data, request.files["evidence"].filename, kind, current_user)
        db.session.flush()
        db.session.add(QualityFile(audit_id=audit.id, purpose="preuve_notation", indicator_id=indicator_id,
                                   stored_file_id=stored.id, uploaded_by_id=current_user.id))
        journal.record("audit_preuve_ajoutee", "audit_qualite", audit.id,
                       f"Pièce justificative pour {indicator_id} : {stored.original_name}")
    db.session.commit()
    flash(f"Indicateur {indicator_id} enregistré : {Rating(rating).label}.", "success")
    return redirect(back)


@bp.route("/fichiers/<int:file_id>")
@allow(ADMIN, ACHETEUR, AUDITEUR, OPERATEUR)
def download(file_id: int):
    record = db.session.get(QualityFile, file_id)
    if record is None:
        abort(404)
    audit = get_audit_or_404(record.audit_id)
    internal = record.purpose == "preuve_notation"
    if not (can_see_internals(current_user, audit) or (not internal and is_audit_operator(current_user, audit))):
        abort(404)
    stored = record.stored_file
    return send_file(io.BytesIO(read_stored(stored)), mimetype=stored.media_type,
                     as_attachment=True, download_name=stored.original_name)
