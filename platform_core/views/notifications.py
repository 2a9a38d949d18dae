"""A user's own notifications: list, detail (« pourquoi ai-je reçu ceci »), mark read."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select, update

from .. import clock
from ..extensions import db
from ..jobs_models import Notification
from ..roles import ANY_USER, allow

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
PAGE_SIZE = 50


def _own(notification_id: int) -> Notification:
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != current_user.id:
        abort(404)  # another user's notification: not even its existence is shown
    return note


def safe_link(link: str | None) -> str | None:
    """Only links inside the platform are followed (no open redirect)."""
    if not link:
        return None
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or not link.startswith("/") or link.startswith("//"):
        return None
    return link


@bp.route("/")
@allow(ANY_USER)
def index():
    only_unread = request.args.get("etat") == "non-lues"
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    query = select(Notification).where(Notification.user_id == current_user.id)
    if only_unread:
        query = query.where(Notification.read_at.is_(None))
    notes = db.session.scalars(query.order_by(Notification.id.desc())
                               .limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    unread = db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == current_user.id, Notification.read_at.is_(None)))
    return render_template("notifications/index.html", notes=notes[:PAGE_SIZE], has_next=len(notes) > PAGE_SIZE,
                           page=page, only_unread=only_unread, unread=unread, safe_link=safe_link)


@bp.route("/<int:notification_id>")
@allow(ANY_USER)
def detail(notification_id: int):
    note = _own(notification_id)
    if note.read_at is None:
        note.read_at = clock.now()
        db.session.commit()
    return render_template("notifications/detail.html", note=note, link=safe_link(note.link))


@bp.route("/<int:notification_id>/lue", methods=["POST"])
@allow(ANY_USER)
def mark_read(notification_id: int):
    note = _own(notification_id)
    if note.read_at is None:
        note.read_at = clock.now()
        db.session.commit()
    flash("Notification marquée comme lue.", "success")
    return redirect(url_for("notifications.index"))


@bp.route("/tout-lire", methods=["POST"])
@allow(ANY_USER)
def mark_all_read():
    done = db.session.execute(
        update(Notification).where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
        .values(read_at=clock.now())).rowcount
    db.session.commit()
    flash(f"{done} notification(s) marquée(s) comme lue(s).", "success")
    return redirect(url_for("notifications.index"))
