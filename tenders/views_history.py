"""History of one manual mark (or moderated mark), read from the journal: every entry
that created or changed it, with author, date, before → after and justification."""
from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user
from sqlalchemy import select

from platform_core import journal
from platform_core.extensions import db
from platform_core.models import JournalEntry
from platform_core.roles import ACHETEUR, ADMIN, EVALUATEUR, allow

from .models import Bid, EvaluatorAssignment, ManualMark
from .services import assignment_for, can_read_bids, criterion_label, is_officer
from .views import bp


def mark_visible(mark: ManualMark, user) -> bool:
    """Same rule as the lot page: one's own marks; moderated marks; another evaluator's
    marks once he submitted them — and, for an evaluator, once he submitted his own."""
    lot = db.session.get(Bid, mark.bid_id).lot
    officer = is_officer(user)
    if officer:
        if not can_read_bids(user, lot):
            return False
    else:
        mine = assignment_for(lot, user)
        if mine is None or mine.coi_declared_at is None or lot.tender.effective_status() in (
                "BROUILLON", "PUBLIEE", "CLOTUREE"):
            return False
    if mark.is_moderation or mark.evaluator_id == user.id:
        return True
    author = db.session.scalar(select(EvaluatorAssignment).where(
        EvaluatorAssignment.lot_id == lot.id, EvaluatorAssignment.user_id == mark.evaluator_id))
    if author is None or author.marks_submitted_at is None:
        return False  # a draft mark stays its author's
    return officer or mine.marks_submitted_at is not None


def _about(entry: JournalEntry, mark: ManualMark) -> bool:
    """Does this journal entry concern this mark's criterion? Entries name it in `after`
    (« critere ») and, for older ones, in their summary (« Note CODE … »)."""
    code = (entry.after or {}).get("critere")
    if code is not None:
        return code == mark.criterion
    return (entry.summary or "").startswith(f"Note {mark.criterion} ")


def mark_history(mark: ManualMark) -> list[dict]:
    if mark.is_moderation:
        # Any officer may moderate: the moderated mark's history has several authors.
        query = journal.visible_entries_query().where(JournalEntry.action == "note_moderee")
        keys = ("note_moderee", "motif")
    else:
        query = journal.visible_entries_query().where(JournalEntry.action == "note_saisie",
                                                      JournalEntry.actor_id == mark.evaluator_id)
        keys = ("note", "justification")
    entries = db.session.scalars(query.where(JournalEntry.object_type == "offre",
                                             JournalEntry.object_id == str(mark.bid_id))
                                 .order_by(JournalEntry.at, JournalEntry.id)).all()
    rows = []
    for e in entries:
        if not _about(e, mark):
            continue
        before, after = e.before or {}, e.after or {}
        rows.append({"entry": e, "before_mark": before.get(keys[0]), "before_text": before.get(keys[1]),
                     "after_mark": after.get(keys[0]), "after_text": after.get(keys[1]),
                     "created": not e.before})
    return rows


@bp.route("/notes/<int:mark_id>/historique")
@allow(ADMIN, ACHETEUR, EVALUATEUR)
def mark_history_view(mark_id: int):
    mark = db.session.get(ManualMark, mark_id)
    if mark is None or not mark_visible(mark, current_user):
        abort(404)
    bid = db.session.get(Bid, mark.bid_id)
    lot = bid.lot
    return render_template("tenders/mark_history.html", mark=mark, bid=bid, lot=lot, tender=lot.tender,
                           rows=mark_history(mark), label=criterion_label(lot.tender, mark.criterion),
                           officer=is_officer(current_user))
