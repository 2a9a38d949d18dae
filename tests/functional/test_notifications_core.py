"""Notifications: idempotent notify(), e-mail after commit through a real local SMTP
server (aiosmtpd), failure kept and retried by the envoi_courriels job, the
development outbox, and the user's pages."""
from __future__ import annotations

import email
import email.policy
import socket
import time

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from platform_core.extensions import db
from platform_core.jobs_models import JobRun, Notification, OutboxMail
from platform_core.models import User
from platform_core.notifications import MAX_ATTEMPTS, notify
from platform_core.scheduler import run_job
from tests.conftest import page


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted"


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on loopback; the app is configured to use it."""
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_STARTTLS=False, SMTP_USER="")
    yield handler
    controller.stop()


def user(accounts, key) -> User:
    return db.session.get(User, accounts[key])


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_notify_is_idempotent_by_key(app, accounts):
    a, b = user(accounts, "acheteur"), user(accounts, "auditeur")
    assert notify([a, b, a], "Consultation clôturée", "Texte", link="/x/1", key="cloture-1") == 2
    db.session.commit()
    assert notify([a, b], "Consultation clôturée", "Texte", link="/x/1", key="cloture-1") == 0
    assert notify([accounts["acheteur"]], "Consultation clôturée", "Texte", key="cloture-1") == 0  # ids accepted
    assert notify([a], "Autre événement", "Texte", key="cloture-2") == 1
    assert notify([a], "Sans clé", "Texte") == 1 and notify([a], "Sans clé", "Texte") == 1  # no key: each time
    db.session.commit()
    assert count(Notification, Notification.user_id == a.id) == 4
    assert count(Notification, Notification.key == "cloture-1") == 2


def test_outbox_in_development_and_nothing_sent_on_rollback(app, accounts):
    assert app.config["SMTP_HOST"] == ""
    a = user(accounts, "operateur")
    notify([a], "Bilan à déposer", "Votre bilan 2025 est attendu.", link="/bilans/3", key="k-rollback")
    db.session.rollback()
    assert count(OutboxMail) == 0 and count(Notification) == 0

    notify([a], "Bilan à déposer", "Votre bilan 2025 est attendu.", link="/bilans/3", key="k-1")
    assert count(OutboxMail) == 0  # not before the commit
    db.session.commit()
    mail = db.session.scalars(select(OutboxMail)).one()
    assert mail.to == "operateur@test.example.fr"
    assert mail.subject == "[Plateforme CEP] Bilan à déposer"
    assert "Bonjour Test operateur" in mail.body and "Votre bilan 2025 est attendu." in mail.body
    assert "http://localhost:5000/bilans/3" in mail.body and "Pourquoi ai-je reçu ce message" in mail.body
    note = db.session.scalars(select(Notification)).one()
    db.session.refresh(note)
    assert note.email_status == "sent" and note.attempts == 1


def test_email_through_a_real_smtp_server(app, accounts, smtp_server):
    a, b = user(accounts, "acheteur"), user(accounts, "evaluateur")
    notify([a, b], "Consultation « CEP 2024 » clôturée",
           "La date limite de dépôt des offres est passée : les offres sont figées.",
           link="/appels-offres/7", key="cloture-7")
    db.session.commit()
    assert len(smtp_server.messages) == 2
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == ["acheteur@test.example.fr",
                                                                    "evaluateur@test.example.fr"]
    msg = email.message_from_bytes(smtp_server.messages[0].content, policy=email.policy.default)
    assert msg["Subject"] == "[Plateforme CEP] Consultation « CEP 2024 » clôturée"
    assert msg["From"] == app.config["MAIL_SENDER"]
    body = msg.get_content()
    assert "les offres sont figées" in body and "/appels-offres/7" in body
    assert count(OutboxMail) == 0
    assert count(Notification, Notification.email_status == "sent") == 2
    # idempotent: notifying again sends nothing
    notify([a, b], "Consultation « CEP 2024 » clôturée", "…", key="cloture-7")
    db.session.commit()
    assert len(smtp_server.messages) == 2


def test_smtp_down_keeps_the_notification_and_the_retry_job_sends_it(app, accounts):
    port = free_port()  # nothing listens here
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    calls = []

    def job_that_notifies(now):
        calls.append(now)
        return {"notifiees": notify([user(accounts, "auditeur")], "Audit planifié", "Un audit est prévu.",
                                    link="/audits/4", key="audit-4")}

    from platform_core.scheduler import JOBS, register_job
    register_job("essai_notification", job_that_notifies, {"hour": 1}, "essai")
    try:
        run = run_job("essai_notification")
    finally:
        JOBS.pop("essai_notification")
    assert run.outcome == "ok" and run.counts == {"notifiees": 1}  # the calling job did not crash
    db.session.expire_all()
    note = db.session.scalars(select(Notification)).one()
    assert note.email_status == "failed" and note.attempts == 1
    assert "127.0.0.1" in note.last_error

    retry = run_job("envoi_courriels")  # server still down
    assert retry.outcome == "ok" and retry.counts["echecs"] == 1

    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        retry = run_job("envoi_courriels")
        assert retry.counts["envoyes"] == 1
        assert len(handler.messages) == 1 and handler.messages[0].rcpt_tos == ["auditeur@test.example.fr"]
        again = run_job("envoi_courriels")
        assert again.counts["envoyes"] == 0 and len(handler.messages) == 1  # sent once
    finally:
        controller.stop()
    db.session.expire_all()
    note = db.session.get(Notification, note.id)
    assert note.email_status == "sent" and note.attempts == 3 and note.last_error is None
    assert count(JobRun, JobRun.job_name == "envoi_courriels", JobRun.outcome == "ok") == 3


def test_retry_gives_up_after_max_attempts(app, accounts):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())
    notify([user(accounts, "acheteur")], "Essai", "Texte", key="essai")
    db.session.commit()
    for _ in range(MAX_ATTEMPTS + 2):
        run_job("envoi_courriels")
    db.session.expire_all()
    note = db.session.scalars(select(Notification)).one()
    assert note.attempts == MAX_ATTEMPTS and note.email_status == "failed"
    assert run_job("envoi_courriels").counts["abandonnes"] == 1


def test_pages_counter_read_and_others_notifications(app, accounts, client_for):
    a = user(accounts, "operateur")
    notify([a], "Bilan 2025 validé", "Votre bilan est validé.", link="/bilans/12", key="v-12")
    notify([a], "Lien externe", "Texte", link="https://example.org/piege", key="ext")
    notify([user(accounts, "operateur_b")], "Secret de B", "Texte", key="b")
    db.session.commit()
    mine = db.session.scalars(select(Notification).where(Notification.user_id == a.id)
                              .order_by(Notification.id)).all()
    other = db.session.scalars(select(Notification).where(Notification.user_id == accounts["operateur_b"])).one()

    c = client_for("operateur")
    listing = page(c.get("/notifications/"))
    assert "Bilan 2025 validé" in listing and "Secret de B" not in listing
    assert 'href="/bilans/12"' in listing and "example.org" not in listing.split("Lien externe")[1].split("</tr>")[0]
    header = page(c.get("/tableau-de-bord"))
    assert "Notifications\xa02 non lue(s)" in header.replace("<span class=\"fr-badge fr-badge--sm fr-badge--new\">", "").replace("<span class=\"fr-sr-only\">", "")

    assert c.get(f"/notifications/{other.id}").status_code == 404
    assert c.post(f"/notifications/{other.id}/lue").status_code == 404
    detail = page(c.get(f"/notifications/{mine[0].id}"))
    assert "Pourquoi ai-je reçu ceci ?" in detail and "Voir l'objet concerné" in detail
    assert c.post(f"/notifications/{mine[1].id}/lue", csrf=False).status_code == 400  # CSRF refused
    assert c.post(f"/notifications/{mine[1].id}/lue").status_code == 302
    db.session.expire_all()
    assert all(n.read_at is not None for n in db.session.scalars(
        select(Notification).where(Notification.user_id == a.id)))
    assert db.session.get(Notification, other.id).read_at is None
    assert "Aucune notification non lue" in page(c.get("/notifications/?etat=non-lues"))


def test_mark_all_read_only_touches_own(app, accounts, client_for):
    notify([user(accounts, "acheteur"), user(accounts, "auditeur")], "Info", "Texte", key="i")
    db.session.commit()
    assert client_for("acheteur").post("/notifications/tout-lire").status_code == 302
    db.session.expire_all()
    states = {n.user_id: n.read_at for n in db.session.scalars(select(Notification))}
    assert states[accounts["acheteur"]] is not None and states[accounts["auditeur"]] is None


def test_outbox_page_is_admin_only(app, accounts, client_for):
    notify([user(accounts, "acheteur")], "Message de développement", "Texte", key="dev")
    db.session.commit()
    assert "Message de développement" in page(client_for("admin").get("/admin/courriels"))
    for role in ("acheteur", "operateur", "observateur"):
        assert client_for(role).get("/admin/courriels").status_code == 403
