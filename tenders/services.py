"""Tender rules shared by the views, the job, the exports and the demo: state
transitions (journaled), sealing, and the bridge from tables to the pure scoring
functions of quality_framework.scoring (never re-implemented here)."""
from __future__ import annotations

from datetime import datetime

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from platform_core import journal
from platform_core.clock import now
from platform_core.extensions import db
from platform_core.models import User, UserRole
from platform_core.notifications import notify
from platform_core.roles import ACHETEUR, ADMIN
from quality_framework import scoring

from .models import TENDER_STATUSES, Bid, BidDocument, EvaluatorAssignment, Lot, ManualMark, Tender

OFFICER_ROLES = (ACHETEUR, ADMIN)


def is_officer(user) -> bool:
    return user.has_role(*OFFICER_ROLES)


# --------------------------------------------------------------------------- state


def set_status(tender: Tender, new_status: str, summary: str, actor=None, **extra) -> None:
    before = tender.effective_status()
    tender.status = new_status
    journal.record("consultation_" + new_status.lower(), "consultation", tender.id,
                   f"{tender.reference} : {TENDER_STATUSES[before]} → {TENDER_STATUSES[new_status]}. {summary}",
                   before={"statut": before}, after={"statut": new_status, **extra}, actor=actor)


def record_closing(tender: Tender, at: datetime) -> bool:
    """Persist the automatic closing once (job or officer action); True if done now."""
    if tender.status != "PUBLIEE" or at < tender.submission_deadline:
        return False
    tender.status = "CLOTUREE"
    tender.closing_recorded_at = at
    deposited = db.session.scalars(
        select(Bid).join(Lot).where(Lot.tender_id == tender.id, Bid.status == "DEPOSEE")).all()
    journal.record("consultation_cloturee", "consultation", tender.id,
                   f"{tender.reference} clôturée à la date limite de dépôt ({len(deposited)} offre(s) déposée(s)).",
                   before={"statut": "PUBLIEE"}, after={"statut": "CLOTUREE"})
    users = set(users_with_role(ACHETEUR))
    org_ids = {b.operator_id for b in deposited}
    if org_ids:
        users |= set(db.session.scalars(select(User).where(User.organisation_id.in_(org_ids))).all())
    notify(sorted(users, key=lambda u: u.id), f"Consultation {tender.reference} clôturée",
           "La date limite de dépôt des offres est passée : les offres sont désormais figées.",
           link=f"/appels-offres/{tender.id}", key=f"cloture-{tender.id}")
    return True


def close_due_tenders(at: datetime) -> dict:
    """Scheduler job: record the closing of published tenders past their deadline."""
    due = db.session.scalars(select(Tender).where(
        Tender.status == "PUBLIEE", Tender.submission_deadline <= at)).all()
    closed = sum(1 for t in due if record_closing(t, at))
    db.session.commit()
    return {"cloturees": closed}


def users_with_role(role: str) -> list[User]:
    return list(db.session.scalars(select(User).join(UserRole).where(UserRole.role == role)).all())


# --------------------------------------------------------------------------- access


def get_tender(tender_id: int, user) -> Tender:
    tender = db.session.get(Tender, tender_id)
    if tender is None:
        abort(404)
    if not is_officer(user) and tender.status == "BROUILLON":
        abort(404)  # drafts are internal to the officers
    return tender


def get_lot(lot_id: int) -> Lot:
    lot = db.session.get(Lot, lot_id)
    if lot is None:
        abort(404)
    return lot


def assignment_for(lot: Lot, user) -> EvaluatorAssignment | None:
    return db.session.scalar(select(EvaluatorAssignment).where(
        EvaluatorAssignment.lot_id == lot.id, EvaluatorAssignment.user_id == user.id))


def can_read_bids(user, lot: Lot) -> bool:
    """Officers after opening; evaluators assigned to the lot after their declaration.
    Before the deadline nobody but the bidding operator (checked elsewhere)."""
    tender = lot.tender
    if tender.is_sealed() or tender.effective_status() in ("BROUILLON", "PUBLIEE", "CLOTUREE"):
        return False
    if is_officer(user):
        return True
    assignment = assignment_for(lot, user)
    return assignment is not None and assignment.coi_declared_at is not None


def own_bid_or_404(bid_id: int, user) -> Bid:
    bid = db.session.get(Bid, bid_id)
    if bid is None or user.organisation_id is None or bid.operator_id != user.organisation_id:
        abort(404)
    return bid


# --------------------------------------------------------------------------- scoring


def lot_spec(lot: Lot) -> scoring.LotSpec:
    return scoring.LotSpec(lot.departements(), lot.annual_demand, lot.departement_weights)


def tender_params(tender: Tender) -> scoring.TenderParameters:
    return scoring.TenderParameters(**tender.parameters)


def bid_answers(bid: Bid) -> scoring.BidAnswers:
    a = bid.answers or {}
    return scoring.BidAnswers(
        capacite_annuelle=a.get("capacite_annuelle", 0), etp_conseillers=a.get("etp_conseillers", 0),
        delai_premier_rdv_jours=a.get("delai_premier_rdv_jours", 0), sites=a.get("sites", []),
        canaux_distance=a.get("canaux_distance", []),
        heures_hors_temps_travail_hebdo=a.get("heures_hors_temps_travail_hebdo", 0),
        nb_conseillers=a.get("nb_conseillers", 0), nb_conseillers_qualifies=a.get("nb_conseillers_qualifies", 0),
        experience_moyenne_annees=a.get("experience_moyenne_annees", 0),
        heures_formation_par_etp=a.get("heures_formation_par_etp", 0),
        analyse_des_pratiques=bool(a.get("analyse_des_pratiques")), prix_annuel_eur=a.get("prix_annuel_eur", 0),
    )


def deposited_bids(lot: Lot) -> list[Bid]:
    return [b for b in lot.bids if b.status == "DEPOSEE"]


def automatic_verdict(bid: Bid) -> list[tuple[str, str]]:
    tender = bid.lot.tender
    present = {d.doc_type for d in bid.documents}
    return scoring.automatic_admissibility(bid_answers(bid), lot_spec(bid.lot), present,
                                           list(tender.mandatory_documents), bid.neutrality_declared)


def marks_of(bid: Bid) -> list[ManualMark]:
    return marks_by_bid([bid.id]).get(bid.id, [])


def marks_by_bid(bid_ids) -> dict[int, list[ManualMark]]:
    """Every mark of these bids in one statement (with their authors), by bid id,
    ordered by criterion then id. Pages over many bids call this once, never per bid."""
    ids = list(bid_ids)
    out: dict[int, list[ManualMark]] = {i: [] for i in ids}
    if not ids:
        return out
    for m in db.session.scalars(select(ManualMark).where(ManualMark.bid_id.in_(ids))
                                .options(joinedload(ManualMark.evaluator))  # authors in the same statement
                                .order_by(ManualMark.criterion, ManualMark.id)).all():
        out[m.bid_id].append(m)
    return out


def load_bids(lots) -> None:
    """Fill `lot.bids` of these lots, with each bid's operator and documents (and their
    stored files), in a constant number of statements whatever the number of bids."""
    lots = [lot for lot in lots if not _bids_loaded(lot)]
    if not lots:
        return
    bids = db.session.scalars(
        select(Bid).where(Bid.lot_id.in_([lot.id for lot in lots])).order_by(Bid.id)
        .options(joinedload(Bid.operator),
                 selectinload(Bid.documents).selectinload(BidDocument.stored_file))).all()
    by_lot: dict[int, list[Bid]] = {lot.id: [] for lot in lots}
    for b in bids:
        by_lot[b.lot_id].append(b)
    for lot in lots:
        if "bids" in lot.__dict__:
            continue  # already loaded (maybe with pending changes): keep it
        set_committed_value(lot, "bids", by_lot[lot.id])


def _bids_loaded(lot: Lot) -> bool:
    """True when lot.bids and each bid's operator and documents are already in memory."""
    return "bids" in lot.__dict__ and all("operator" in b.__dict__ and "documents" in b.__dict__
                                          for b in lot.bids)


def manual_scores(bid: Bid, marks: list[ManualMark] | None = None) -> dict[str, scoring.ManualScore]:
    by_criterion: dict[str, dict] = {}
    for m in marks_of(bid) if marks is None else marks:
        entry = by_criterion.setdefault(m.criterion, {"marks": [], "moderated": None})
        if m.is_moderation:
            entry["moderated"] = m.mark
        else:
            entry["marks"].append(m.mark)
    return {c: scoring.ManualScore(tuple(v["marks"]), v["moderated"]) for c, v in by_criterion.items()}


def rank_lot(lot: Lot, marks: dict[int, list[ManualMark]] | None = None) -> list[tuple[Bid, scoring.RankedBid]]:
    """Score and rank the lot's deposited bids; a bid is admissible when the officer
    confirmed it (or, before confirmation, when the automatic verdict is clean).
    `marks`: the marks by bid id when the caller already loaded them (marks_by_bid)."""
    load_bids([lot])
    bids = deposited_bids(lot)
    if not bids:
        return []
    if marks is None:
        marks = marks_by_bid(b.id for b in bids)
    tender = lot.tender
    scoring_bids = []
    for b in bids:
        admissible = b.admissible if b.admissible is not None else not automatic_verdict(b)
        scoring_bids.append(scoring.Bid(str(b.id), bid_answers(b), b.submitted_at, admissible,
                                        manual_scores(b, marks.get(b.id, []))))
    ranked = scoring.rank_bids(scoring_bids, lot_spec(lot), tender.weights, tender_params(tender))
    by_id = {str(b.id): b for b in bids}
    return [(by_id[r.bid.id], r) for r in ranked]


def criterion_label(tender: Tender, code: str) -> str:
    labels = {"CAPACITE": "Capacité", "COUVERTURE": "Couverture territoriale",
              "PROFESSIONNALISATION": "Professionnalisation", "PRIX": "Prix"}
    for c in tender.manual_criteria or []:
        labels[c["code"]] = c["label"]
    return labels.get(code, code)


def lot_of_user_region(lot: Lot, user) -> bool:
    return user.region_code is None or user.region_code in lot.region_codes


def evaluated_lots_count(tender: Tender) -> int:
    return sum(1 for lot in tender.lots if lot.status in ("CLASSE", "ATTRIBUE", "INFRUCTUEUX"))


def refresh_tender_progress(tender: Tender, actor=None) -> None:
    """classée when every lot is ranked or infructueux; attribuée when every lot is decided."""
    statuses = {lot.status for lot in tender.lots}
    if tender.status in ("OUVERTE", "EN_EVALUATION", "CLASSEE") and statuses <= {"ATTRIBUE", "INFRUCTUEUX"}:
        set_status(tender, "ATTRIBUEE", "Tous les lots sont attribués ou déclarés infructueux.", actor=actor)
    elif tender.status in ("OUVERTE", "EN_EVALUATION") and statuses <= {"CLASSE", "ATTRIBUE", "INFRUCTUEUX"}:
        set_status(tender, "CLASSEE", "Tous les lots sont classés.", actor=actor)


def at_now() -> datetime:
    return now()
