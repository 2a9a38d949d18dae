"""Outgoing e-mail: SMTP when SMTP_HOST is set, otherwise the outbox table
(development), which an administrator reads at /admin/courriels."""
from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app

from .extensions import db

SMTP_TIMEOUT_SECONDS = 10
SUBJECT_PREFIX = "[Plateforme CEP] "


class MailError(RuntimeError):
    """Delivery failed (server down, refused recipient…); the message says why."""


def uses_outbox() -> bool:
    return not current_app.config.get("SMTP_HOST")


def build_message(to: list[str], subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_SENDER"]
    msg["To"] = ", ".join(to)
    msg["Subject"] = SUBJECT_PREFIX + subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=current_app.config["MAIL_SENDER"].rpartition("@")[2] or None)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to us
    msg.set_content(body, charset="utf-8")
    return msg


def send_mail(to, subject: str, body: str, *, session=None, notification_id: int | None = None) -> str:
    """Send one text mail. Returns "smtp" or "outbox"; raises MailError on failure.

    In outbox mode the row is added to `session` (default: db.session) and is
    committed by the caller, with the rest of its transaction."""
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        raise MailError("aucun destinataire")
    if uses_outbox():
        from .jobs_models import OutboxMail

        (session or db.session).add(OutboxMail(to=", ".join(recipients), subject=SUBJECT_PREFIX + subject,
                                               body=body, notification_id=notification_id))
        return "outbox"
    cfg = current_app.config
    msg = build_message(recipients, subject, body)
    try:
        with smtplib.SMTP(cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if cfg.get("SMTP_STARTTLS"):
                smtp.starttls()
            if cfg.get("SMTP_USER"):
                smtp.login(cfg["SMTP_USER"], cfg.get("SMTP_PASSWORD", ""))
            refused = smtp.send_message(msg, to_addrs=recipients)
    except (OSError, smtplib.SMTPException, socket.timeout) as exc:
        raise MailError(f"serveur SMTP {cfg['SMTP_HOST']}:{cfg['SMTP_PORT']} : {exc}") from exc
    if refused:
        raise MailError(f"destinataires refusés : {', '.join(refused)}")
    return "smtp"
