"""Periodic jobs. Domains register plain functions here:

    register_job("cloture_appels_offres", close_due_tenders,
                 trigger={"minute": "*/5"}, description="Clôture les consultations…")

A job function takes the current time (naive UTC) and returns a dict of counts
describing what it did; it must be idempotent (running it twice does nothing twice).
`trigger` holds APScheduler cron fields (minute, hour, day, day_of_week, month…),
read in Europe/Paris time; an interval is also accepted: {"minutes": 10}.

`run_job(name)` runs one job now, inside the app context, and records a JobRun
(outcome, counts, error, host/pid). The web process runs them on schedule through
APScheduler with a database job store, one leader across all processes
(platform_core/scheduler_runtime.py). See docs/scheduler.md."""
from __future__ import annotations

import logging
import os
import socket
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from sqlalchemy import select

from . import clock

log = logging.getLogger(__name__)

INTERVAL_FIELDS = {"weeks", "days", "hours", "minutes", "seconds"}
CRON_FIELDS = {"year", "month", "day", "week", "day_of_week", "hour", "minute", "second"}


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: Callable[[datetime], dict]
    trigger: dict = field(default_factory=dict)  # APScheduler cron fields
    description: str = ""

    def aps_trigger(self):
        return build_trigger(self.trigger)

    @property
    def schedule_label(self) -> str:
        return describe_trigger(self.trigger)


JOBS: dict[str, JobSpec] = {}


class UnknownJob(LookupError):
    def __init__(self, name: str):
        known = ", ".join(sorted(JOBS)) or "aucune"
        super().__init__(f"Tâche inconnue « {name} ». Tâches connues : {known}.")


def register_job(name: str, func: Callable[[datetime], dict], trigger: dict, description: str) -> None:
    build_trigger(trigger)  # fail at import time on a malformed schedule
    JOBS[name] = JobSpec(name, func, dict(trigger), description)


def build_trigger(trigger: dict):
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    keys = set(trigger)
    if keys and keys <= INTERVAL_FIELDS:
        return IntervalTrigger(timezone=clock.PARIS, **trigger)
    if keys - CRON_FIELDS:
        raise ValueError(f"champs de planification inconnus : {sorted(keys - CRON_FIELDS)}")
    return CronTrigger(timezone=clock.PARIS, **trigger)


_INTERVAL_LABELS = {"weeks": "semaine(s)", "days": "jour(s)", "hours": "heure(s)", "minutes": "minute(s)",
                    "seconds": "seconde(s)"}
_CRON_LABELS = {"year": "année", "month": "mois", "day": "jour", "week": "semaine",
                "day_of_week": "jour de la semaine", "hour": "heure", "minute": "minute", "second": "seconde"}


def describe_trigger(trigger: dict) -> str:
    """A French reading of the schedule, e.g. « tous les jours à 03:15 (heure de Paris) »."""
    if trigger and set(trigger) <= INTERVAL_FIELDS:
        return "toutes les " + ", ".join(f"{v} {_INTERVAL_LABELS[k]}" for k, v in trigger.items())
    keys = set(trigger)
    hour, minute = trigger.get("hour"), trigger.get("minute", 0)
    if keys <= {"hour", "minute"} and str(hour).isdigit() and str(minute).isdigit():
        return f"tous les jours à {int(hour):02d}:{int(minute):02d} (heure de Paris)"
    if keys == {"minute"} and str(trigger["minute"]).startswith("*/"):
        return f"toutes les {str(trigger['minute'])[2:]} minutes"
    if keys == {"hour"} and str(trigger["hour"]).startswith("*/"):
        return f"toutes les {str(trigger['hour'])[2:]} heures"
    parts = ", ".join(f"{_CRON_LABELS.get(k, k)} = {v}" for k, v in trigger.items())
    return f"calendrier : {parts} (heure de Paris)"


def next_run_times() -> dict[str, datetime | None]:
    """Next run (naive UTC) per job: the persisted one from the job store when the
    scheduler has stored it, otherwise computed from the trigger."""
    from .extensions import db
    from .jobs_models import apscheduler_jobs

    stored: dict[str, float | None] = {}
    try:
        for job_id, ts in db.session.execute(select(apscheduler_jobs.c.id, apscheduler_jobs.c.next_run_time)):
            stored[job_id] = ts
    except Exception:  # table not created yet (fresh database before migration)
        db.session.rollback()
    result = {}
    current = datetime.now(timezone.utc)
    for name, spec in JOBS.items():
        if name in stored:
            ts = stored[name]
            result[name] = None if ts is None else datetime.fromtimestamp(ts, timezone.utc).replace(tzinfo=None)
        else:
            nxt = spec.aps_trigger().get_next_fire_time(None, current)
            result[name] = nxt.astimezone(timezone.utc).replace(tzinfo=None) if nxt else None
    return result


def last_runs(limit_per_job: int = 1) -> dict[str, list]:
    from .extensions import db
    from .jobs_models import JobRun

    out: dict[str, list] = {}
    for name in JOBS:
        out[name] = list(db.session.scalars(
            select(JobRun).where(JobRun.job_name == name).order_by(JobRun.id.desc()).limit(limit_per_job)))
    return out


def _jsonable_counts(counts) -> dict:
    if counts is None:
        return {}
    if not isinstance(counts, dict):
        return {"resultat": str(counts)}
    return {str(k): (v if isinstance(v, (int, float, str, bool)) or v is None else str(v)) for k, v in counts.items()}


def run_job(name: str, now: datetime | None = None, trigger: str = "manual", actor=None):
    """Run a registered job now, in the current app context; returns its JobRun.

    The job's exceptions are caught and recorded (outcome "error"), never raised:
    the scheduler, and the next job, keep running. Raises UnknownJob for a name
    that is not registered."""
    from . import journal
    from .extensions import db
    from .jobs_models import JobRun

    spec = JOBS.get(name)
    if spec is None:
        raise UnknownJob(name)
    db.session.rollback()  # start clean: nothing of the caller's leaks into the job
    run = JobRun(job_name=name, trigger=trigger, started_at=clock.now(), outcome="running",
                 host=socket.gethostname()[:200], pid=os.getpid(), started_by_id=getattr(actor, "id", None))
    db.session.add(run)
    db.session.commit()
    run_id = run.id
    try:
        counts = spec.func(now or clock.now())
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        log.exception("la tâche %s a échoué", name)
        outcome, counts = "error", None
        error = f"{type(exc).__name__}: {exc}\n" + "".join(traceback.format_exc(limit=8))[-4000:]
    else:
        outcome, error = "ok", None
    run = db.session.get(JobRun, run_id)
    run.outcome, run.error, run.finished_at = outcome, error, clock.now()
    run.counts = _jsonable_counts(counts)
    if trigger == "manual":
        journal.record("tache_executee", "tache", name,
                       f"Exécution manuelle de la tâche {name} : {run.outcome_label}.",
                       after={"execution": run_id, "resultat": outcome, **run.counts}, actor=actor)
    db.session.commit()
    return run


# -------------------------------------------------------------- core jobs --

def check_stored_files(now: datetime) -> dict:
    """Job `controle_integrite_fichiers`: every StoredFile still hashes to its SHA-256.
    Administrators are notified once per damaged file (notification key)."""
    from .extensions import db
    from .files import storage_path, verify_stored
    from .models import StoredFile, User, UserRole
    from .notifications import notify

    checked = altered = missing = notified = 0
    verdicts: dict[str, bool] = {}  # several records may share one content
    admins = None
    for record in db.session.scalars(select(StoredFile).order_by(StoredFile.id)).all():
        checked += 1
        if record.sha256 not in verdicts:
            try:
                verdicts[record.sha256] = verify_stored(record)
            except OSError:  # unreadable (permissions, disk error): as bad as altered
                verdicts[record.sha256] = False
        if verdicts[record.sha256]:
            continue
        gone = not storage_path(record.sha256).exists()
        missing += gone
        altered += not gone
        if admins is None:
            admins = db.session.scalars(select(User).join(UserRole).where(
                UserRole.role == "admin", User.active.is_(True)).order_by(User.id)).all()
        state = "est introuvable sur le disque" if gone else "ne correspond plus à son empreinte SHA-256"
        notified += notify(
            admins,
            f"Intégrité des fichiers : « {record.original_name} » {'manquant' if gone else 'altéré'}",
            f"Le fichier n° {record.id} « {record.original_name} » (déposé le "
            f"{clock.to_paris(record.uploaded_at):%d/%m/%Y}) {state} ({record.sha256}). "
            "Restaurez-le depuis la sauvegarde ; ce contrôle est refait chaque nuit.",
            link="/admin/taches/controle_integrite_fichiers",
            key=f"integrite-fichier-{record.id}",
        )
    db.session.commit()
    return {"fichiers_verifies": checked, "alteres": altered, "manquants": missing,
            "notifications": notified}


register_job("controle_integrite_fichiers", check_stored_files, {"hour": 3, "minute": 15},
             "Vérifie chaque nuit que chaque fichier déposé correspond toujours à son empreinte "
             "SHA-256 ; prévient les administrateurs une fois par fichier altéré ou manquant.")


def load_demo() -> str:
    """Demo step (idempotent): a welcome notification per demo account, and one
    recorded run of the core integrity job."""
    from .demo import DEMO_DOMAIN
    from .extensions import db
    from .jobs_models import JobRun
    from .models import User
    from .notifications import notify

    users = db.session.scalars(select(User).where(User.email.like(f"%@{DEMO_DOMAIN}")).order_by(User.id)).all()
    created = notify(users, "Bienvenue sur la plateforme CEP (démonstration)",
                     "Les notifications vous préviennent des événements qui vous concernent (clôture "
                     "d'une consultation, bilan attendu, audit planifié…). Données entièrement fictives.",
                     link="/tableau-de-bord", key="demo-bienvenue")
    db.session.commit()
    checked = ""
    if not db.session.scalar(select(JobRun.id).where(JobRun.job_name == "controle_integrite_fichiers")):
        run = run_job("controle_integrite_fichiers", trigger="manual")
        checked = f", contrôle d'intégrité : {run.counts.get('fichiers_verifies', 0)} fichier(s) vérifié(s)"
    if not created and not checked:
        return ""
    return f"{created} notification(s) de bienvenue{checked}"


def init_app(app) -> None:
    """Admin pages, and the scheduler started by the first request of a web process
    (never by `flask` CLI commands, never under TESTING or SCHEDULER_ENABLED=0)."""
    from .demo import register_demo_step
    from .scheduler_runtime import should_run, start_once
    from .views import jobs as views

    app.register_blueprint(views.bp)
    register_demo_step(50, "tâches planifiées et notifications", load_demo)
    if should_run(app):
        @app.before_request
        def _start_scheduler():
            start_once(app)
