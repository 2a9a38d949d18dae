"""The journal page: filter by who, what object and when; export as xlsx."""
from __future__ import annotations

from datetime import datetime, time

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from ..clock import paris_to_utc
from ..exports import add_table, new_workbook, workbook_bytes, xlsx_response
from ..extensions import db
from ..formatting import fr_datetime
from ..journal import visible_entries_query
from ..models import JournalEntry
from ..roles import ACHETEUR, ADMIN, allow
from ..ui import register_nav

bp = Blueprint("journal", __name__, url_prefix="/journal")
register_nav("Journal", "journal.index", {ADMIN, ACHETEUR}, order=80)

PAGE_SIZE = 100


def _parse_day(raw: str | None):
    if not raw:
        return None, None
    try:
        return datetime.strptime(raw, "%Y-%m-%d").date(), None
    except ValueError:
        return None, f"Date « {raw} » invalide : format attendu AAAA-MM-JJ."


def _filtered():
    errors = []
    query = visible_entries_query()
    actor = request.args.get("qui", "").strip()
    if actor:
        query = query.where(func.lower(JournalEntry.actor_label).contains(actor.lower()))
    obj_type = request.args.get("objet", "").strip()
    if obj_type:
        query = query.where(JournalEntry.object_type == obj_type)
    obj_id = request.args.get("id", "").strip()
    if obj_id:
        query = query.where(JournalEntry.object_id == obj_id)
    action = request.args.get("action", "").strip()
    if action:
        query = query.where(JournalEntry.action == action)
    start, err = _parse_day(request.args.get("du"))
    if err:
        errors.append(err)
    elif start:
        query = query.where(JournalEntry.at >= paris_to_utc(datetime.combine(start, time.min)))
    end, err = _parse_day(request.args.get("au"))
    if err:
        errors.append(err)
    elif end:
        query = query.where(JournalEntry.at <= paris_to_utc(datetime.combine(end, time.max)))
    return query.order_by(JournalEntry.id.desc()), errors


@bp.route("/")
@allow(ADMIN, ACHETEUR)
def index():
    query, errors = _filtered()
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    entries = db.session.scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    types = db.session.scalars(select(JournalEntry.object_type).distinct().order_by(JournalEntry.object_type)).all()
    return render_template("journal/index.html", entries=entries[:PAGE_SIZE], has_next=len(entries) > PAGE_SIZE,
                           page=page, errors=errors, types=types, args=request.args,
                           filters={k: v for k, v in request.args.items() if k != "page"})


@bp.route("/export.xlsx")
@allow(ADMIN, ACHETEUR)
def export():
    query, _ = _filtered()
    wb = new_workbook()
    ws = wb.create_sheet("Journal")
    rows = (
        (e.id, fr_datetime(e.at), e.actor_label, e.action, e.object_type, e.object_id, e.summary,
         _compact(e.before), _compact(e.after))
        for e in db.session.scalars(query.limit(200_000))
    )
    add_table(ws, ["n°", "date (heure de Paris)", "auteur", "action", "objet", "identifiant",
                   "résumé", "avant", "après"], rows, widths=[8, 22, 36, 24, 16, 12, 50, 40, 40])
    return xlsx_response(workbook_bytes(wb), "journal.xlsx")


def _compact(value) -> str:
    if not value:
        return ""
    return "; ".join(f"{k} = {v}" for k, v in value.items()) if isinstance(value, dict) else str(value)
