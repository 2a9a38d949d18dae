"""The operator's side: sealed bids (answers, documents, neutrality), drafts,
submission, withdrawal and the receipt — only until the submission deadline."""
from __future__ import annotations

from urllib.parse import quote

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from platform_core import journal
from platform_core.security import upload_rate_limit
from platform_core.clock import now
from platform_core.extensions import db
from platform_core.files import UploadRejected, read_stored, read_upload, store_bytes
from platform_core.roles import ACHETEUR, ADMIN, EVALUATEUR, OPERATEUR, allow
from quality_framework import scoring
from quality_framework.reference import departements

from . import forms as tf
from .models import Bid, BidDocument, Lot
from .services import can_read_bids, own_bid_or_404
from .views import bp

BID_KINDS = ("pdf", "docx", "odt")
OTHER_DOCUMENT = "Autre pièce"


def _open_for_bids(lot: Lot) -> bool:
    tender = lot.tender
    return tender.effective_status() == "PUBLIEE" and now() < tender.submission_deadline


def _journal(bid: Bid, action: str, summary: str, **kw) -> None:
    # Sealed: the journal page hides the entry until the deadline.
    journal.record(action, "offre", bid.id, summary, sealed_until=bid.lot.tender.submission_deadline, **kw)


@bp.route("/lots/<int:lot_id>/offre", methods=["POST"])
@allow(OPERATEUR)
def bid_create(lot_id: int):
    lot = db.session.get(Lot, lot_id)
    if lot is None or lot.tender.status == "BROUILLON" or current_user.organisation_id is None:
        abort(404)
    existing = db.session.scalar(select(Bid).where(Bid.lot_id == lot.id,
                                                   Bid.operator_id == current_user.organisation_id))
    if existing:
        return redirect(url_for("tenders.bid_view", bid_id=existing.id))
    if not _open_for_bids(lot):
        flash("Le dépôt des offres est clos pour cette consultation.", "error")
        return redirect(url_for("tenders.show", tender_id=lot.tender_id))
    bid = Bid(lot_id=lot.id, operator_id=current_user.organisation_id, answers={}, updated_at=now())
    db.session.add(bid)
    db.session.flush()
    _journal(bid, "offre_creee", f"Brouillon d'offre créé sur le lot {lot.number}.")
    db.session.commit()
    return redirect(url_for("tenders.bid_view", bid_id=bid.id))


def _form_values(bid: Bid) -> dict:
    a = bid.answers or {}
    values = {k: ("" if v is None else v) for k, v in a.items() if not isinstance(v, (list, bool))}
    for i, site in enumerate(a.get("sites", [])):
        for k in ("commune", "departement", "type"):
            values[f"site_{i}_{k}"] = site.get(k, "")
    return values


@bp.route("/offres/<int:bid_id>", methods=["GET", "POST"])
@allow(OPERATEUR)
def bid_view(bid_id: int):
    bid = own_bid_or_404(bid_id, current_user)
    lot, tender = bid.lot, bid.lot.tender
    editable = _open_for_bids(lot)
    errors, values = tf.Errors(), _form_values(bid)
    if request.method == "POST":
        if not editable:
            flash("La date limite de dépôt est passée : l'offre est figée et ne peut plus être modifiée.", "error")
            return redirect(url_for("tenders.bid_view", bid_id=bid.id)), 409
        action = request.form.get("action", "save")
        submitting = action == "submit" or bid.status == "DEPOSEE"
        answers, neutrality, errors = tf.parse_bid(request.form, lot.departements())
        if not submitting:  # a draft may be incomplete, never wrong
            for k in [k for k, m in errors.items() if "champ obligatoire" in m]:
                del errors[k]
        if submitting and not errors and not answers["sites"]:
            errors.add("site_0_commune", "Sites : au moins un site est attendu pour déposer l'offre.")
        if not errors:
            try:
                before = {"statut": bid.status}
                bid.answers = {k: v for k, v in answers.items() if v is not None}
                bid.neutrality_declared = neutrality
                bid.updated_at = now()
                if submitting:
                    bid.status, bid.submitted_at = "DEPOSEE", now()
                if request.form.get("version", type=int) not in (None, bid.version):
                    raise StaleDataError
                _journal(bid, "offre_deposee" if submitting else "offre_enregistree",
                         f"Offre sur le lot {lot.number} {'déposée' if submitting else 'enregistrée en brouillon'}.",
                         before=before, after={"statut": bid.status})
                db.session.commit()
            except StaleDataError:
                db.session.rollback()
                flash("L'offre a été modifiée entre-temps (autre onglet ou collègue) : rechargez la page, rien n'a été enregistré.", "error")
                return redirect(url_for("tenders.bid_view", bid_id=bid.id))
            flash("Offre déposée : voici votre récépissé." if submitting else "Brouillon enregistré.", "success")
            if submitting:
                return redirect(url_for("tenders.bid_receipt", bid_id=bid.id))
            return redirect(url_for("tenders.bid_view", bid_id=bid.id))
        values = request.form.to_dict()
    channels = request.form.getlist("canaux_distance") if request.method == "POST" else (bid.answers or {}).get("canaux_distance", [])
    practice = (request.form.get("analyse_des_pratiques") == "oui") if request.method == "POST" else (bid.answers or {}).get("analyse_des_pratiques", False)
    neutral = (request.form.get("neutralite") == "oui") if request.method == "POST" else bid.neutrality_declared
    present = {d.doc_type for d in bid.documents}
    return render_template("tenders/bid_form.html", bid=bid, lot=lot, tender=tender, editable=editable,
                           errors=errors, values=values, channels=channels, practice=practice, neutral=neutral,
                           site_rows=tf.SITE_ROWS, remote=scoring.REMOTE_CHANNELS, site_types=scoring.SITE_TYPES,
                           doc_types=list(tender.mandatory_documents) + [OTHER_DOCUMENT],
                           missing=[d for d in tender.mandatory_documents if d not in present],
                           lot_deps=[(d, departements()[d].name) for d in lot.departements()])


@bp.route("/offres/<int:bid_id>/documents", methods=["POST"])
@allow(OPERATEUR)
@upload_rate_limit
def bid_upload(bid_id: int):
    bid = own_bid_or_404(bid_id, current_user)
    tender = bid.lot.tender
    if not _open_for_bids(bid.lot):
        flash("La date limite de dépôt est passée : l'offre est figée.", "error")
        return redirect(url_for("tenders.bid_view", bid_id=bid.id)), 409
    doc_type = request.form.get("doc_type", "")
    if doc_type not in list(tender.mandatory_documents) + [OTHER_DOCUMENT]:
        flash("Pièce : type de pièce inconnu, choisissez-le dans la liste.", "error")
        return redirect(url_for("tenders.bid_view", bid_id=bid.id))
    upload = request.files.get("fichier")
    try:
        data, kind = read_upload(upload, kinds=BID_KINDS)
    except UploadRejected as exc:
        flash(f"Pièce « {doc_type} » : {exc}", "error")
        return redirect(url_for("tenders.bid_view", bid_id=bid.id))
    replaced = [d for d in bid.documents if d.doc_type == doc_type and doc_type != OTHER_DOCUMENT]
    for d in replaced:
        bid.documents.remove(d)
    stored = store_bytes(data, upload.filename, kind, uploaded_by=current_user)
    db.session.flush()
    bid.documents.append(BidDocument(doc_type=doc_type, stored_file_id=stored.id))
    bid.updated_at = now()
    if bid.status == "DEPOSEE":
        bid.submitted_at = now()  # the deposited version is the latest one
    _journal(bid, "offre_piece_deposee", f"Pièce « {doc_type} » déposée.",
             after={"piece": doc_type, "sha256": stored.sha256, "remplace": len(replaced)})
    db.session.commit()
    flash(f"Pièce « {doc_type} » enregistrée (SHA-256 {stored.sha256}).", "success")
    return redirect(url_for("tenders.bid_view", bid_id=bid.id))


@bp.route("/offres/<int:bid_id>/documents/<int:doc_id>/supprimer", methods=["POST"])
@allow(OPERATEUR)
def bid_document_delete(bid_id: int, doc_id: int):
    bid = own_bid_or_404(bid_id, current_user)
    doc = next((d for d in bid.documents if d.id == doc_id), None)
    if doc is None:
        abort(404)
    if not _open_for_bids(bid.lot):
        flash("La date limite de dépôt est passée : l'offre est figée.", "error")
        return redirect(url_for("tenders.bid_view", bid_id=bid.id)), 409
    bid.documents.remove(doc)
    bid.updated_at = now()
    _journal(bid, "offre_piece_retiree", f"Pièce « {doc.doc_type} » retirée.")
    db.session.commit()
    flash("Pièce retirée.", "success")
    return redirect(url_for("tenders.bid_view", bid_id=bid.id))


@bp.route("/offres/<int:bid_id>/retirer", methods=["POST"])
@allow(OPERATEUR)
def bid_withdraw(bid_id: int):
    bid = own_bid_or_404(bid_id, current_user)
    if not _open_for_bids(bid.lot):
        flash("La date limite de dépôt est passée : l'offre ne peut plus être retirée.", "error")
        return redirect(url_for("tenders.bid_view", bid_id=bid.id)), 409
    if bid.status == "RETIREE":
        flash("L'offre est déjà retirée.", "info")
    else:
        before = bid.status
        bid.status, bid.submitted_at = "RETIREE", None
        _journal(bid, "offre_retiree", f"Offre sur le lot {bid.lot.number} retirée.",
                 before={"statut": before}, after={"statut": "RETIREE"})
        db.session.commit()
        flash("Offre retirée. Vous pouvez la déposer à nouveau avant la date limite.", "success")
    return redirect(url_for("tenders.bid_view", bid_id=bid.id))


@bp.route("/offres/<int:bid_id>/recepisse")
@allow(OPERATEUR)
def bid_receipt(bid_id: int):
    bid = own_bid_or_404(bid_id, current_user)
    if bid.status != "DEPOSEE":
        flash("Aucun récépissé : l'offre n'est pas déposée.", "error")
        return redirect(url_for("tenders.bid_view", bid_id=bid.id))
    return render_template("tenders/receipt.html", bid=bid, lot=bid.lot, tender=bid.lot.tender)


@bp.route("/offres/<int:bid_id>/documents/<int:doc_id>")
@allow(OPERATEUR, ACHETEUR, ADMIN, EVALUATEUR)
def bid_document(bid_id: int, doc_id: int):
    """Owner only before the deadline; officers and declared evaluators after opening.
    Anyone else gets 404: not even the existence of the document leaks."""
    bid = db.session.get(Bid, bid_id)
    if bid is None:
        abort(404)
    owner = current_user.organisation_id is not None and bid.operator_id == current_user.organisation_id \
        and current_user.has_role(OPERATEUR)
    if not owner and (bid.status != "DEPOSEE" or not can_read_bids(current_user, bid.lot)):
        abort(404)
    doc = next((d for d in bid.documents if d.id == doc_id), None)
    if doc is None:
        abort(404)
    sf = doc.stored_file
    return Response(read_stored(sf), mimetype=sf.media_type,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(sf.original_name)}",
                             "Cache-Control": "no-store"})
