"""`flask --app wsgi jobs list` and `flask --app wsgi jobs run NAME`.

These commands never start the scheduler: `jobs run` executes one job in this
process and records the run like the « Exécuter maintenant » button."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from .formatting import fr_datetime

jobs_group = AppGroup("jobs", help="Tâches planifiées : liste et exécution manuelle.")


@jobs_group.command("list")
def list_jobs():
    """Liste les tâches : planification, prochaine exécution, dernier résultat."""
    from .scheduler import JOBS, last_runs, next_run_times

    from sqlalchemy.exc import SQLAlchemyError

    try:
        nexts, runs = next_run_times(), last_runs(1)
    except SQLAlchemyError as exc:
        click.echo("Historique des tâches illisible : la base est-elle migrée "
                   f"(flask --app wsgi db upgrade) ? Détail : {type(exc).__name__}", err=True)
        sys.exit(1)
    if not JOBS:
        click.echo("Aucune tâche enregistrée.")
        return
    for name in sorted(JOBS):
        spec = JOBS[name]
        last = runs[name][0] if runs[name] else None
        outcome = (f"{last.outcome_label} le {fr_datetime(last.started_at)}" if last else "jamais exécutée")
        click.echo(f"{name}\n  planification : {spec.schedule_label}\n"
                   f"  prochaine exécution : {fr_datetime(nexts.get(name)) or '—'}\n"
                   f"  dernière exécution : {outcome}")


@jobs_group.command("run")
@click.argument("name")
def run(name: str):
    """Exécute la tâche NAME maintenant et affiche ses comptes."""
    from .scheduler import JOBS, UnknownJob, run_job

    if name not in JOBS:
        click.echo(str(UnknownJob(name)), err=True)
        sys.exit(1)
    result = run_job(name, trigger="manual")
    if result.outcome != "ok":
        click.echo(f"La tâche {name} a échoué :\n{result.error}", err=True)
        sys.exit(1)
    click.echo(f"Tâche {name} exécutée.")
    for key, value in (result.counts or {}).items():
        click.echo(f"  {key} : {value}")
