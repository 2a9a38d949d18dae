"""Administration of periodic jobs (schedule, next run, runs, « Exécuter maintenant »)
and the development outbox. Administrators only."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..jobs_models import Notification, OutboxMail
from ..mail import uses_outbox
from ..roles import ADMIN, allow
from ..scheduler import JOBS, last_runs, next_run_times, run_job
from ..ui import register_nav

bp = Blueprint("jobs", __name__, url_prefix="/admin")
register_nav("Tâches planifiées", "jobs.index", {ADMIN}, order=90)


@bp.route("/taches/")
@allow(ADMIN)
def index():
    from ..scheduler_runtime import SchedulerService

    service = SchedulerService.current
    return render_template("jobs/index.html", jobs=sorted(JOBS.values(), key=lambda j: j.name),
                           next_runs=next_run_times(), runs=last_runs(1),
                           leader=bool(service and service.is_leader), service=service)


@bp.route("/taches/<name>")
@allow(ADMIN)
def detail(name: str):
    spec = JOBS.get(name)
    if spec is None:
        abort(404)
    return render_template("jobs/detail.html", job=spec, next_run=next_run_times().get(name),
                           runs=last_runs(50)[name])


@bp.route("/taches/<name>/executer", methods=["POST"])
@allow(ADMIN)
def run_now(name: str):
    if name not in JOBS:
        abort(404)
    run = run_job(name, trigger="manual", actor=current_user)
    if run.outcome == "ok":
        counts = ", ".join(f"{k} : {v}" for k, v in (run.counts or {}).items()) or "aucun compte rendu"
        flash(f"Tâche « {name} » exécutée ({counts}).", "success")
    else:
        flash(f"La tâche « {name} » a échoué : {(run.error or '').splitlines()[0] if run.error else ''}. "
              "Le détail est dans l'historique ci-dessous.", "error")
    return redirect(url_for("jobs.detail", name=name))


@bp.route("/courriels")
@allow(ADMIN)
def outbox():
    mails = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id.desc()).limit(200)).all()
    failed = db.session.scalars(
        select(Notification).where(Notification.email_status.in_(("failed", "sending")))
        .order_by(Notification.id.desc()).limit(200)).all()
    return render_template("jobs/outbox.html", mails=mails, failed=failed, outbox_mode=uses_outbox())
