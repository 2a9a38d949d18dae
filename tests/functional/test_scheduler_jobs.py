"""run_job and its records, the CLI, the integrity job and the admin jobs page."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import time_machine
from sqlalchemy import func, select

from platform_core.extensions import db
from platform_core.files import storage_path, store_bytes
from platform_core.jobs_models import JobRun, Notification
from platform_core.models import JournalEntry
from platform_core.scheduler import JOBS, UnknownJob, describe_trigger, register_job, run_job
from tests.conftest import page


@pytest.fixture
def test_jobs():
    """Registers throw-away jobs and restores the registry afterwards."""
    saved = dict(JOBS)
    calls = []

    def ok_job(now):
        calls.append(("ok", now))
        return {"traites": 3, "date": now}

    def failing_job(now):
        calls.append(("boom", now))
        raise RuntimeError("base indisponible")

    register_job("essai_ok", ok_job, {"hour": 4, "minute": 0}, "Essai qui réussit")
    register_job("essai_erreur", failing_job, {"minute": "*/10"}, "Essai qui échoue")
    yield calls
    JOBS.clear()
    JOBS.update(saved)


def test_run_job_records_a_run(app, accounts, test_jobs):
    at = datetime(2026, 3, 2, 8, 0)
    run = run_job("essai_ok", now=at)
    assert test_jobs == [("ok", at)]
    db.session.expire_all()
    run = db.session.get(JobRun, run.id)
    assert run.outcome == "ok" and run.trigger == "manual" and run.error is None
    assert run.counts == {"traites": 3, "date": "2026-03-02 08:00:00"}
    assert run.finished_at >= run.started_at and run.pid > 0 and run.host


def test_a_failing_job_is_recorded_and_the_next_one_still_runs(app, accounts, test_jobs):
    failed = run_job("essai_erreur", trigger="schedule")
    ok = run_job("essai_ok")
    assert failed.outcome == "error" and "RuntimeError: base indisponible" in failed.error
    assert failed.trigger == "schedule"
    assert ok.outcome == "ok"
    assert [c[0] for c in test_jobs] == ["boom", "ok"]
    assert db.session.scalar(select(func.count(JobRun.id))) == 2


def test_unknown_job(app):
    with pytest.raises(UnknownJob, match="Tâches connues : .*controle_integrite_fichiers"):
        run_job("n_existe_pas")


def test_trigger_descriptions():
    assert describe_trigger({"hour": 3, "minute": 15}) == "tous les jours à 03:15 (heure de Paris)"
    assert describe_trigger({"minute": "*/5"}) == "toutes les 5 minutes"
    assert describe_trigger({"minutes": 10}) == "toutes les 10 minute(s)"
    with pytest.raises(ValueError):
        register_job("mauvais", lambda now: {}, {"minuteS": 3, "heure": 2}, "")
    assert "mauvais" not in JOBS


def test_cli_list_and_run(app, accounts, test_jobs):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["jobs", "run", "essai_ok"])
    assert result.exit_code == 0, result.output
    assert "Tâche essai_ok exécutée." in result.output and "traites : 3" in result.output
    listing = runner.invoke(args=["jobs", "list"])
    assert listing.exit_code == 0
    assert "essai_ok\n  planification : tous les jours à 04:00 (heure de Paris)" in listing.output
    assert "dernière exécution : réussie le" in listing.output
    assert "controle_integrite_fichiers" in listing.output and "envoi_courriels" in listing.output
    assert "jamais exécutée" in listing.output

    failing = runner.invoke(args=["jobs", "run", "essai_erreur"])
    assert failing.exit_code == 1 and "base indisponible" in failing.output
    unknown = runner.invoke(args=["jobs", "run", "inconnue"])
    assert unknown.exit_code == 1
    assert "Tâche inconnue « inconnue ». Tâches connues : " in unknown.output
    assert "essai_ok" in unknown.output
    assert db.session.scalar(select(func.count(JobRun.id)).where(JobRun.job_name == "inconnue")) == 0


def test_integrity_job_detects_a_tampered_file_once(app, accounts):
    good = store_bytes(b"%PDF-1.4 bon fichier", "bon.pdf", "pdf")
    bad = store_bytes(b"%PDF-1.4 offre technique", "offre.pdf", "pdf")
    gone = store_bytes(b"%PDF-1.4 disparu", "disparu.pdf", "pdf")
    db.session.commit()
    storage_path(bad.sha256).write_bytes(b"%PDF-1.4 offre technique MODIFIEE")
    storage_path(gone.sha256).unlink()

    frozen = datetime(2026, 1, 15, 2, 15, tzinfo=timezone.utc)
    with time_machine.travel(frozen, tick=False):
        first = run_job("controle_integrite_fichiers", trigger="schedule")
        second = run_job("controle_integrite_fichiers", trigger="schedule")
    assert first.outcome == "ok"
    assert first.counts == {"fichiers_verifies": 3, "alteres": 1, "manquants": 1, "notifications": 2}
    assert second.counts["notifications"] == 0 and second.counts["alteres"] == 1
    assert first.started_at == frozen.replace(tzinfo=None)
    notes = db.session.scalars(select(Notification).order_by(Notification.id)).all()
    assert [n.user_id for n in notes] == [accounts["admin"]] * 2  # admins only, once per file
    assert "offre.pdf" in notes[0].subject and "altéré" in notes[0].subject
    assert "disparu.pdf" in notes[1].subject and "manquant" in notes[1].subject
    assert notes[0].key == f"integrite-fichier-{bad.id}"
    assert good.id not in {int(n.key.rsplit("-", 1)[1]) for n in notes}


def test_admin_page_and_run_now(app, accounts, client_for, test_jobs):
    c = client_for("admin")
    listing = page(c.get("/admin/taches/"))
    assert "controle_integrite_fichiers" in listing and "Exécuter maintenant" in listing
    assert "tous les jours à 03:15 (heure de Paris)" in listing
    assert c.post("/admin/taches/essai_ok/executer", csrf=False).status_code == 400
    assert db.session.scalar(select(func.count(JobRun.id))) == 0
    response = c.post("/admin/taches/essai_ok/executer")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/taches/essai_ok")
    detail = page(c.get("/admin/taches/essai_ok"))
    assert "Tâche « essai_ok » exécutée (traites : 3" in detail
    assert "réussie" in detail and "manuelle" in detail
    db.session.expire_all()
    run = db.session.scalars(select(JobRun)).one()
    assert run.started_by_id == accounts["admin"]
    entry = db.session.scalars(select(JournalEntry).where(JournalEntry.action == "tache_executee")).one()
    assert entry.actor_id == accounts["admin"] and entry.object_id == "essai_ok"

    c.post("/admin/taches/essai_erreur/executer")
    assert "a échoué : RuntimeError: base indisponible" in page(c.get("/admin/taches/essai_erreur"))
    assert c.post("/admin/taches/inconnue/executer").status_code == 404
    assert c.get("/admin/taches/inconnue").status_code == 404


@pytest.mark.parametrize("role", ["acheteur", "evaluateur", "auditeur", "operateur", "observateur"])
def test_jobs_pages_are_admin_only(app, accounts, client_for, role):
    c = client_for(role)
    assert c.get("/admin/taches/").status_code == 403
    assert c.get("/admin/taches/envoi_courriels").status_code == 403
    assert c.post("/admin/taches/envoi_courriels/executer").status_code == 403
    assert c.get("/notifications/").status_code == 200
    assert db.session.scalar(select(func.count(JobRun.id))) == 0


def test_demo_step_is_idempotent(app):
    from platform_core.demo import DEMO_DOMAIN
    from platform_core.models import User
    from platform_core.scheduler import load_demo

    db.session.add(User(email=f"admin@{DEMO_DOMAIN}", full_name="Alice Admin (fictive)", password_hash="x"))
    db.session.commit()
    first = load_demo()
    assert first.startswith("1 notification(s) de bienvenue") and "contrôle d'intégrité" in first
    assert load_demo() == ""
    assert db.session.scalar(select(func.count(JobRun.id))) == 1


def test_first_request_starts_the_scheduler_and_the_cli_does_not(app, tmp_path, monkeypatch):
    from platform_core import create_app
    from platform_core.scheduler_runtime import SchedulerService

    started = []

    def fake_start(self):  # no thread: we only check who starts it, and how often
        started.append(self)
        SchedulerService.current = self

    monkeypatch.setattr(SchedulerService, "start", fake_start)
    monkeypatch.setattr(SchedulerService, "current", None)
    web = create_app({"TESTING": False, "SCHEDULER_ENABLED": True,
                      "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                      "INSTANCE_DIR": str(tmp_path / "web"), "UPLOAD_DIR": str(tmp_path / "web-files")})
    assert web.test_cli_runner().invoke(args=["jobs", "list"]).exit_code == 0
    assert started == []  # flask CLI commands never start it
    client = web.test_client()
    assert client.get("/sante").status_code == 200
    client.get("/sante")
    assert len(started) == 1 and started[0].app is web

    monkeypatch.setattr(SchedulerService, "current", None)
    disabled = create_app({"TESTING": False, "SCHEDULER_ENABLED": False,
                           "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                           "INSTANCE_DIR": str(tmp_path / "off"), "UPLOAD_DIR": str(tmp_path / "off-files")})
    disabled.test_client().get("/sante")
    assert len(started) == 1
