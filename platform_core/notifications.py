"""Notifications to users (in the platform and by e-mail).

    notify(users, subject, body, link=None, key=None) -> int

`users`: User objects or user ids. `link`: a path inside the platform
("/appels-offres/12"), shown as « Voir l'objet » and put in the e-mail.
`key` makes a notification idempotent: a (user, key) pair is notified once, so a
job run twice sends nothing twice. Returns the number of notifications created.

The notification is written in the caller's transaction. Its e-mail is sent only
after that transaction commits (a session `after_commit` hook), so a rollback
never sends a mail; a failed send stays `failed` and the `envoi_courriels` job
retries it (at most MAX_ATTEMPTS attempts)."""
from __future__ import annotations

import logging
import os
from datetime import timedelta

from flask import Flask, current_app, g, render_template
from flask_login import current_user
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import clock
from .extensions import db
from .jobs_models import Notification
from .mail import MailError, send_mail
from .models import User

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
STUCK_SENDING_AFTER = timedelta(minutes=15)
_PENDING_KEY = "cep_notifications_to_mail"


def notify(users, subject: str, body: str, link: str | None = None, key: str | None = None) -> int:
    """Returns the number of notifications created (0 when already sent for `key`)."""
    created = 0
    seen: set[int] = set()
    nested = db.session.get_bind().dialect.name != "sqlite"  # pysqlite savepoints are unreliable
    for user in users:
        user_obj = user if isinstance(user, User) else db.session.get(User, int(user))
        if user_obj is None or user_obj.id in seen:
            continue
        seen.add(user_obj.id)
        if key is not None and db.session.scalar(
            select(Notification.id).where(Notification.user_id == user_obj.id, Notification.key == key)
        ):
            continue
        note = Notification(
            user_id=user_obj.id, subject=subject[:200], body=body, link=(link or None), key=key,
            created_at=clock.now(),
            email_status="pending" if user_obj.active and user_obj.email else "none",
        )
        if nested:
            try:
                with db.session.begin_nested():
                    db.session.add(note)
            except IntegrityError:  # another process notified this (user, key) meanwhile
                continue
        else:
            db.session.add(note)
            db.session.flush()
        if note.email_status == "pending":
            db.session.info.setdefault(_PENDING_KEY, []).append(note.id)
        created += 1
    return created


# ------------------------------------------------------------------ e-mail --

def base_url() -> str:
    return (current_app.config.get("BASE_URL") or os.environ.get("CEP_BASE_URL")
            or "http://localhost:5000").rstrip("/")


def render_mail(note: Notification, user: User) -> tuple[str, str]:
    link_url = None
    if note.link:
        link_url = note.link if "://" in note.link else base_url() + note.link
    body = render_template("notifications/mail.txt", note=note, user=user, link_url=link_url,
                           list_url=base_url() + "/notifications/")
    return note.subject, body


def deliver(ids=None) -> dict:
    """Send the e-mails of these notifications (all retryable ones when None).

    Runs in its own session, outside any caller transaction. Each notification is
    first claimed (pending/failed → sending) so that two processes never send it
    twice. After a connection-level failure the rest of the batch is left for the
    retry job rather than waiting for each timeout."""
    counts = {"envoyes": 0, "echecs": 0}
    with Session(bind=db.engine, expire_on_commit=False) as session:
        if ids is None:
            ids = retryable_ids(session)
        server_down = False
        for note_id in ids:
            if server_down:
                break
            at = clock.now()
            claimed = session.execute(
                update(Notification)
                .where(Notification.id == note_id, Notification.email_status.in_(("pending", "failed")),
                       Notification.attempts < MAX_ATTEMPTS)
                .values(email_status="sending", attempts=Notification.attempts + 1, last_attempt_at=at)
            ).rowcount
            session.commit()
            if not claimed:
                continue
            note = session.get(Notification, note_id)
            user = session.get(User, note.user_id)
            try:
                subject, body = render_mail(note, user)
                send_mail(user.email, subject, body, session=session, notification_id=note.id)
            except MailError as exc:
                note.email_status, note.last_error = "failed", str(exc)[:2000]
                counts["echecs"] += 1
                server_down = True
                log.warning("courriel de la notification %s non envoyé : %s", note_id, exc)
            except Exception as exc:  # a template or data problem must not stop the batch
                note.email_status, note.last_error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
                counts["echecs"] += 1
                log.exception("courriel de la notification %s non envoyé", note_id)
            else:
                note.email_status, note.sent_at, note.last_error = "sent", clock.now(), None
                counts["envoyes"] += 1
            session.commit()
    return counts


def retryable_ids(session) -> list[int]:
    # A claim older than STUCK_SENDING_AFTER belongs to a process that died mid-send.
    session.execute(
        update(Notification)
        .where(Notification.email_status == "sending",
               Notification.last_attempt_at < clock.now() - STUCK_SENDING_AFTER)
        .values(email_status="failed", last_error="envoi interrompu")
    )
    session.commit()
    return list(session.scalars(
        select(Notification.id)
        .where(Notification.email_status.in_(("pending", "failed")), Notification.attempts < MAX_ATTEMPTS)
        .order_by(Notification.id)
    ))


def send_pending_emails(now) -> dict:
    """Job `envoi_courriels`: retry pending and failed e-mails."""
    counts = deliver(None)
    counts["abandonnes"] = db.session.scalar(
        select(func.count(Notification.id)).where(Notification.email_status == "failed",
                                                  Notification.attempts >= MAX_ATTEMPTS)) or 0
    return counts


def _after_commit(session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT released: the outer transaction may still roll back
    ids = session.info.pop(_PENDING_KEY, None)
    if not ids:
        return
    try:
        deliver(ids)
    except Exception:  # never let e-mail break the committed business transaction
        log.exception("envoi des courriels après validation impossible ; le job envoi_courriels réessaiera")


# ------------------------------------------------------------------- pages --

def unread_count(user) -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user.id,
                                                  Notification.read_at.is_(None))) or 0


def _unread_for_current_user() -> int:
    if not current_user.is_authenticated:
        return 0
    if "cep_unread" not in g:
        try:
            g.cep_unread = unread_count(current_user)
        except Exception:  # the error page must render even when the database fails
            log.exception("compteur de notifications indisponible")
            db.session.rollback()
            g.cep_unread = 0
    return g.cep_unread


def visible_to(user):
    return select(Notification).where(Notification.user_id == user.id)


def init_app(app: Flask) -> None:
    from .scheduler import register_job
    from .views import notifications as views

    app.register_blueprint(views.bp)
    app.jinja_env.globals["unread_notifications"] = _unread_for_current_user
    if not getattr(db, "_cep_mail_hook", False):
        event.listen(db.session, "after_commit", _after_commit)
        db._cep_mail_hook = True
    register_job("envoi_courriels", send_pending_emails, {"minute": "*/5"},
                 "Envoie les courriels des notifications en attente ou en échec "
                 f"(au plus {MAX_ATTEMPTS} essais par notification).")


__all__ = ["notify", "deliver", "send_pending_emails", "unread_count", "MAX_ATTEMPTS"]
