"""Opening, admissibility, evaluators (conflict-of-interest declaration, marks),
moderation, ranking, CREFOP opinion and award (creating the Contract)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from platform_core import journal
from platform_core.clock import now
from platform_core.extensions import db
from platform_core.models import User
from platform_core.roles import ACHETEUR, ADMIN, EVALUATEUR, allow
from quality_framework import scoring

from .models import CREFOP_OPINIONS, Bid, Contract, EvaluatorAssignment, Lot, ManualMark
from .services import (assignment_for, automatic_verdict, can_read_bids, criterion_label, deposited_bids,
                       get_lot, get_tender, is_officer, load_bids, marks_by_bid, rank_lot, record_closing,
                       refresh_tender_progress, set_status, users_with_role)
from .views import bp

OFFICERS = (ADMIN, ACHETEUR)


def _deposited_bid_or_404(bid_id: int) -> Bid:
    """A deposited bid (drafts and withdrawn bids are not evaluated)."""
    bid = db.session.get(Bid, bid_id)
    if bid is None or bid.status != "DEPOSEE":
        abort(404)
    return bid


def _back(lot: Lot):
    return redirect(url_for("tenders.lot_view", lot_id=lot.id))


@bp.route("/<int:tender_id>/ouvrir", methods=["POST"])
@allow(*OFFICERS)
def open_bids(tender_id: int):
    tender = get_tender(tender_id, current_user)
    record_closing(tender, now())
    if tender.effective_status() != "CLOTUREE":
        flash("Ouverture impossible : la consultation doit être clôturée (date limite de dépôt passée).", "error")
        return redirect(url_for("tenders.show", tender_id=tender.id))
    for lot in tender.lots:
        for bid in deposited_bids(lot):
            bid.auto_admissibility = [list(p) for p in automatic_verdict(bid)]
    set_status(tender, "OUVERTE", "Plis ouverts ; verdicts automatiques de recevabilité calculés.")
    db.session.commit()
    flash("Plis ouverts. Confirmez ou infirmez chaque verdict de recevabilité.", "success")
    return redirect(url_for("tenders.show", tender_id=tender.id))


@bp.route("/<int:tender_id>/evaluation", methods=["POST"])
@allow(*OFFICERS)
def start_evaluation(tender_id: int):
    tender = get_tender(tender_id, current_user)
    if tender.status != "OUVERTE":
        flash("L'évaluation ne peut commencer qu'après l'ouverture des plis.", "error")
        return redirect(url_for("tenders.show", tender_id=tender.id))
    pending = [b for lot in tender.lots for b in deposited_bids(lot) if b.admissible is None]
    if pending:
        flash(f"Recevabilité à confirmer pour {len(pending)} offre(s) avant de lancer l'évaluation.", "error")
        return redirect(url_for("tenders.show", tender_id=tender.id))
    set_status(tender, "EN_EVALUATION", "Recevabilité confirmée pour toutes les offres.")
    db.session.commit()
    flash("Évaluation lancée.", "success")
    return redirect(url_for("tenders.show", tender_id=tender.id))


@bp.route("/lots/<int:lot_id>")
@allow(ADMIN, ACHETEUR, EVALUATEUR)
def lot_view(lot_id: int):
    lot = get_lot(lot_id)
    tender = lot.tender
    officer = is_officer(current_user)
    if officer:  # before any loading: a commit expires what was loaded
        record_closing(tender, now()) and db.session.commit()
    # The evaluators first: the assignments' and marks' users are then already loaded,
    # with their roles, and their joined rows cost no further statement.
    evaluators = users_with_role(EVALUATEUR) if officer else []
    assignments = _assignments(lot)
    assignment = next((a for a in assignments if a.user_id == current_user.id), None)
    if not officer and assignment is None:
        abort(404)  # evaluators see their assigned lots only
    sealed = not can_read_bids(current_user, lot) if officer else tender.effective_status() in (
        "BROUILLON", "PUBLIEE", "CLOTUREE")
    if sealed or (not officer and assignment.coi_declared_at is None):
        return render_template("tenders/lot_sealed.html", lot=lot, tender=tender, officer=officer,
                               assignment=assignment, sealed=sealed,
                               count=len(deposited_bids(lot)) if officer else None,
                               evaluators=evaluators, assignments=assignments)
    load_bids([lot])
    marks_by = marks_by_bid(b.id for b in deposited_bids(lot))  # once for the lot, not per bid
    ranked = rank_lot(lot, marks_by)
    manual = tender.manual_criteria or []
    submitted_ids = {a.user_id for a in assignments if a.marks_submitted_at}
    me_submitted = assignment is not None and assignment.marks_submitted_at is not None
    rows = []
    for bid, r in ranked:
        marks = marks_by.get(bid.id, [])
        mine = {m.criterion: m for m in marks if not m.is_moderation and m.evaluator_id == current_user.id}
        # Others' marks: only submitted ones, and for an evaluator only after submitting his own.
        others = [m for m in marks if not m.is_moderation and m.evaluator_id != current_user.id
                  and m.evaluator_id in submitted_ids and (officer or me_submitted)]
        moderation = {m.criterion: m for m in marks if m.is_moderation}
        rows.append({"bid": bid, "ranked": r, "mine": mine, "others": others, "moderation": moderation})
    return render_template("tenders/lot.html", lot=lot, tender=tender, rows=rows, officer=officer,
                           assignment=assignment, assignments=assignments, manual=manual,
                           evaluators=evaluators,
                           label=lambda c: criterion_label(tender, c), opinions=CREFOP_OPINIONS,
                           sub_scores=scoring.SUB_SCORES, automatic=scoring.AUTOMATIC_CRITERIA,
                           status=tender.effective_status())


def _assignments(lot: Lot) -> list[EvaluatorAssignment]:
    return list(db.session.scalars(select(EvaluatorAssignment).where(EvaluatorAssignment.lot_id == lot.id)
                                   .options(joinedload(EvaluatorAssignment.user))
                                   .order_by(EvaluatorAssignment.id)).all())


@bp.route("/lots/<int:lot_id>/evaluateurs", methods=["POST"])
@allow(*OFFICERS)
def assign_evaluator(lot_id: int):
    lot = get_lot(lot_id)
    user = db.session.get(User, request.form.get("user_id", type=int) or 0)
    if user is None or not user.has_role(EVALUATEUR):
        flash("Évaluateur : choisissez un compte ayant le rôle évaluateur.", "error")
    elif assignment_for(lot, user):
        flash("Cet évaluateur est déjà affecté au lot.", "info")
    else:
        a = EvaluatorAssignment(lot_id=lot.id, user_id=user.id)
        db.session.add(a)
        db.session.flush()
        journal.record("evaluateur_affecte", "lot", lot.id, f"{user.full_name} affecté(e) au lot {lot.number}.",
                       after={"evaluateur": user.email})
        db.session.commit()
        flash(f"{user.full_name} affecté(e) au lot {lot.number}.", "success")
    return _back(lot)


@bp.route("/lots/<int:lot_id>/declaration", methods=["POST"])
@allow(EVALUATEUR)
def declare_coi(lot_id: int):
    lot = get_lot(lot_id)
    a = assignment_for(lot, current_user)
    if a is None:
        abort(404)
    if request.form.get("absence_conflit") != "oui":
        flash("Déclaration : cochez la case attestant l'absence de conflit d'intérêts. "
              "En cas de conflit, signalez-le à l'acheteur qui vous retirera du lot.", "error")
    elif a.coi_declared_at is None:
        a.coi_declared_at = now()
        a.coi_statement = (request.form.get("statement") or "").strip()[:2000] or None
        journal.record("declaration_conflit_interets", "lot", lot.id,
                       f"Absence de conflit d'intérêts déclarée pour le lot {lot.number}.")
        db.session.commit()
        flash("Déclaration enregistrée.", "success")
    return _back(lot)


@bp.route("/offres/<int:bid_id>/recevabilite", methods=["POST"])
@allow(*OFFICERS)
def confirm_admissibility(bid_id: int):
    bid = _deposited_bid_or_404(bid_id)
    lot, tender = bid.lot, bid.lot.tender
    verdict = request.form.get("verdict")
    reason = (request.form.get("reason") or "").strip()
    if tender.status != "OUVERTE":
        flash("La recevabilité se confirme après l'ouverture des plis et avant l'évaluation.", "error")
    elif verdict not in ("admissible", "inadmissible"):
        flash("Recevabilité : choisissez « recevable » ou « irrecevable ».", "error")
    elif not reason:
        flash("Recevabilité : le motif écrit est obligatoire.", "error")
    else:
        before = {"admissible": bid.admissible, "verdict_automatique": bid.auto_admissibility}
        bid.admissible = verdict == "admissible"
        bid.admissibility_reason = reason[:2000]
        auto_ok = not bid.auto_admissibility
        kind = "confirmé" if auto_ok == bid.admissible else "infirmé"
        journal.record("recevabilite_" + verdict, "offre", bid.id,
                       f"Verdict automatique {kind} : offre {'recevable' if bid.admissible else 'irrecevable'}. Motif : {reason[:500]}",
                       before=before, after={"admissible": bid.admissible, "motif": reason[:2000]})
        db.session.commit()
        flash("Recevabilité enregistrée.", "success")
    return _back(lot)


def _mark_errors(form, key: str, label: str):
    raw = (form.get(f"mark_{key}") or "").strip().replace(",", ".")
    just = (form.get(f"just_{key}") or "").strip()
    if not raw and not just:
        return None, None, None
    try:
        mark = float(raw)
    except ValueError:
        return None, None, f"{label} : note de 0 à 4 attendue, reçu « {raw} »."
    if not 0 <= mark <= scoring.MANUAL_MARK_MAX:
        return None, None, f"{label} : note de 0 à 4 attendue, reçu « {raw} »."
    if not just:
        return None, None, f"{label} : la justification est obligatoire."
    return mark, just[:4000], None


@bp.route("/lots/<int:lot_id>/notes", methods=["POST"])
@allow(EVALUATEUR)
def save_marks(lot_id: int):
    lot = get_lot(lot_id)
    a = assignment_for(lot, current_user)
    if a is None or a.coi_declared_at is None:
        abort(404)
    tender = lot.tender
    if tender.status != "EN_EVALUATION" or lot.status != "OUVERT":
        flash("Les notes ne peuvent être saisies que pendant l'évaluation d'un lot non classé.", "error")
        return _back(lot)
    errors, changes = [], []
    for bid in [b for b in deposited_bids(lot) if b.admissible]:
        for c in tender.manual_criteria:
            key = f"{bid.id}_{c['code']}"
            label = f"Offre n° {bid.id}, {c['label']}"
            mark, just, error = _mark_errors(request.form, key, label)
            if error:
                errors.append(error)
                continue
            if mark is None:
                continue
            existing = db.session.scalar(select(ManualMark).where(
                ManualMark.bid_id == bid.id, ManualMark.criterion == c["code"],
                ManualMark.evaluator_id == current_user.id, ManualMark.is_moderation.is_(False)))
            sent_version = request.form.get(f"version_{key}", type=int) or 0
            if (existing.version if existing else 0) != sent_version:
                errors.append(f"{label} : la note a été modifiée entre-temps (autre onglet) ; rechargez la page.")
                continue
            if existing and existing.mark == mark and existing.justification == just:
                continue
            changes.append((bid, c["code"], existing, mark, just))
    if errors:
        flash("Rien n'a été enregistré. " + " ".join(errors), "error")
        return _back(lot)
    for bid, code, existing, mark, just in changes:
        before = {"note": existing.mark, "justification": existing.justification} if existing else None
        if existing:
            existing.mark, existing.justification, existing.updated_at = mark, just, now()
        else:
            db.session.add(ManualMark(bid_id=bid.id, criterion=code, evaluator_id=current_user.id,
                                      mark=mark, justification=just, updated_at=now()))
        journal.record("note_saisie", "offre", bid.id, f"Note {code} : {scoring.fmt(mark)}/4.",
                       before=before, after={"critere": code, "note": mark, "justification": just})
    db.session.commit()
    flash(f"{len(changes)} note(s) enregistrée(s).", "success")
    return _back(lot)


@bp.route("/lots/<int:lot_id>/notes/soumettre", methods=["POST"])
@allow(EVALUATEUR)
def submit_marks(lot_id: int):
    lot = get_lot(lot_id)
    a = assignment_for(lot, current_user)
    if a is None or a.coi_declared_at is None:
        abort(404)
    codes = lot.tender.manual_codes()
    missing = 0
    admissible = [b for b in deposited_bids(lot) if b.admissible]
    marks_by = marks_by_bid(b.id for b in admissible)
    for bid in admissible:
        have = {m.criterion for m in marks_by[bid.id] if m.evaluator_id == current_user.id and not m.is_moderation}
        missing += len(set(codes) - have)
    if missing:
        flash(f"Soumission impossible : {missing} note(s) manquante(s).", "error")
    elif a.marks_submitted_at is None:
        a.marks_submitted_at = now()
        journal.record("notes_soumises", "lot", lot.id, f"Notes du lot {lot.number} soumises.")
        db.session.commit()
        flash("Notes soumises : vous voyez désormais les notes des autres évaluateurs.", "success")
    return _back(lot)


@bp.route("/offres/<int:bid_id>/moderation", methods=["POST"])
@allow(*OFFICERS)
def moderate(bid_id: int):
    bid = _deposited_bid_or_404(bid_id)
    lot, tender = bid.lot, bid.lot.tender
    code = request.form.get("criterion", "")
    if tender.status != "EN_EVALUATION" or lot.status != "OUVERT" or code not in tender.manual_codes():
        flash("Modération impossible (évaluation terminée ou critère inconnu).", "error")
        return _back(lot)
    mark, reason, error = _mark_errors({"mark_x": request.form.get("mark"), "just_x": request.form.get("reason")},
                                       "x", f"Modération {code}")
    if error or mark is None:
        flash((error or "Modération : note et motif obligatoires.").replace("justification", "motif"), "error")
        return _back(lot)
    existing = db.session.scalar(select(ManualMark).where(
        ManualMark.bid_id == bid.id, ManualMark.criterion == code, ManualMark.is_moderation.is_(True)))
    if (existing.version if existing else 0) != (request.form.get("version", type=int) or 0):
        flash("Modération : la note modérée a été modifiée entre-temps par un autre acheteur ; rechargez la page. Rien n'a été enregistré.", "error")
        return _back(lot)
    before = {"note_moderee": existing.mark, "motif": existing.justification} if existing else None
    if existing:
        existing.mark, existing.justification, existing.evaluator_id, existing.updated_at = mark, reason, current_user.id, now()
    else:
        db.session.add(ManualMark(bid_id=bid.id, criterion=code, evaluator_id=current_user.id, is_moderation=True,
                                  mark=mark, justification=reason, updated_at=now()))
    journal.record("note_moderee", "offre", bid.id, f"Note {code} modérée à {scoring.fmt(mark)}/4. Motif : {reason[:300]}",
                   before=before, after={"critere": code, "note_moderee": mark, "motif": reason})
    db.session.commit()
    flash("Note modérée enregistrée.", "success")
    return _back(lot)


@bp.route("/lots/<int:lot_id>/classer", methods=["POST"])
@allow(*OFFICERS)
def rank(lot_id: int):
    lot = get_lot(lot_id)
    tender = lot.tender
    if tender.status != "EN_EVALUATION" or lot.status != "OUVERT":
        flash("Classement impossible : le lot doit être en évaluation et non encore classé.", "error")
        return _back(lot)
    ranked = rank_lot(lot)
    if not any(r.rank for _, r in ranked):
        flash("Aucune offre recevable : déclarez le lot infructueux.", "error")
        return _back(lot)
    for bid, r in ranked:
        bid.final_rank = r.rank
        bid.final_total = r.score.total if r.score else None
    lot.status = "CLASSE"
    journal.record("lot_classe", "lot", lot.id, f"Lot {lot.number} classé.",
                   after={"classement": [{"offre": b.id, "rang": r.rank, "total": r.score.total if r.score else None}
                                         for b, r in ranked]})
    refresh_tender_progress(tender)
    db.session.commit()
    flash(f"Lot {lot.number} classé.", "success")
    return _back(lot)


@bp.route("/lots/<int:lot_id>/infructueux", methods=["POST"])
@allow(*OFFICERS)
def declare_unsuccessful(lot_id: int):
    lot = get_lot(lot_id)
    tender = lot.tender
    reason = (request.form.get("reason") or "").strip()
    if tender.status not in ("OUVERTE", "EN_EVALUATION", "CLASSEE") or lot.status in ("ATTRIBUE", "INFRUCTUEUX"):
        flash("Le lot ne peut pas être déclaré infructueux à ce stade.", "error")
    elif not reason:
        flash("Lot infructueux : le motif est obligatoire.", "error")
    else:
        before = lot.status
        lot.status, lot.decision_text = "INFRUCTUEUX", reason[:2000]
        journal.record("lot_infructueux", "lot", lot.id, f"Lot {lot.number} déclaré infructueux. Motif : {reason[:300]}",
                       before={"statut": before}, after={"statut": "INFRUCTUEUX"})
        refresh_tender_progress(tender)
        db.session.commit()
        flash(f"Lot {lot.number} déclaré infructueux.", "success")
    return _back(lot)


def award_lot(lot: Lot, opinion: str, opinion_date, opinion_text: str, decision: str, actor=None) -> Contract:
    """Record the CREFOP opinion and the decision, create the Contract of the first-ranked bid."""
    tender = lot.tender
    winner = next(b for b in deposited_bids(lot) if b.final_rank == 1)
    lot.crefop_opinion, lot.crefop_date, lot.crefop_text = opinion, opinion_date, opinion_text
    lot.decision_text, lot.awarded_bid_id, lot.status = decision, winner.id, "ATTRIBUE"
    contract = Contract(reference=f"{tender.reference}-L{lot.number:02d}", operator_id=winner.operator_id,
                        region_code=lot.region_codes[0], lot_id=lot.id, starts_on=tender.period_start,
                        ends_on=tender.period_end, annual_capacity=int(winner.answers["capacite_annuelle"]),
                        annual_price=Decimal(str(winner.answers["prix_annuel_eur"])).quantize(Decimal("0.01")),
                        fixed_share=0.8, variable_share=0.2)
    db.session.add(contract)
    db.session.flush()
    journal.record("lot_attribue", "lot", lot.id,
                   f"Lot {lot.number} attribué à {winner.operator.name} (avis CREFOP {CREFOP_OPINIONS[opinion]}).",
                   before={"statut": "CLASSE"}, after={"statut": "ATTRIBUE", "offre": winner.id, "contrat": contract.reference},
                   actor=actor)
    journal.record("contrat_cree", "contrat", contract.id,
                   f"Contrat {contract.reference} : {contract.annual_capacity} entrées/an, {contract.annual_price} €/an.",
                   actor=actor)
    refresh_tender_progress(tender, actor=actor)
    return contract


@bp.route("/lots/<int:lot_id>/attribution", methods=["POST"])
@allow(*OFFICERS)
def award(lot_id: int):
    lot = get_lot(lot_id)
    if lot.status != "CLASSE":
        flash("Attribution impossible : le lot doit être classé.", "error")
        return _back(lot)
    opinion = request.form.get("opinion", "")
    text = (request.form.get("opinion_text") or "").strip()
    decision = (request.form.get("decision") or "").strip()
    errors = []
    if opinion not in CREFOP_OPINIONS:
        errors.append("Avis du CREFOP : favorable, réservé ou défavorable attendu.")
    try:
        opinion_date = datetime.strptime(request.form.get("opinion_date", ""), "%Y-%m-%d").date()
    except ValueError:
        errors.append("Date de l'avis du CREFOP : date attendue (AAAA-MM-JJ).")
    if not text:
        errors.append("Texte de l'avis du CREFOP : obligatoire.")
    if not decision:
        errors.append("Décision : texte obligatoire.")
    if errors:
        flash("Rien n'a été enregistré. " + " ".join(errors), "error")
        return _back(lot)
    contract = award_lot(lot, opinion, opinion_date, text[:4000], decision[:4000])
    db.session.commit()
    flash(f"Lot {lot.number} attribué ; contrat {contract.reference} créé.", "success")
    return _back(lot)
