"""Running the registered jobs on schedule, in exactly one process.

Every web process (gunicorn worker, machine) starts a small `SchedulerService`
thread on its first request. The thread tries to become leader through a
database lock; only the leader runs an APScheduler BackgroundScheduler whose jobs
are persisted in the `apscheduler_jobs` table. The others retry every
RENEW_SECONDS and take over when the leader goes away.

- PostgreSQL: `pg_try_advisory_lock` on a dedicated connection held by the
  leader. If the leader dies, its connection closes and the server frees the lock.
- SQLite (and anything else): a lease row in `scheduler_leases` renewed every
  RENEW_SECONDS, valid LEASE_SECONDS; a holder that stops renewing loses it at expiry.
"""
from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
import uuid
import zlib
from datetime import timedelta

from sqlalchemy import create_engine, delete, insert, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from . import clock
from .jobs_models import SchedulerLease, apscheduler_jobs

log = logging.getLogger(__name__)

LOCK_NAME = "cep-scheduler"
LEASE_SECONDS = 90
RENEW_SECONDS = 30
MISFIRE_GRACE_SECONDS = 6 * 3600  # a nightly run missed during a restart still runs


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class PgAdvisoryLock:
    """Session-level advisory lock on a connection of its own (not from the pool)."""

    def __init__(self, url, name: str = LOCK_NAME):
        self.url = url
        self.key = zlib.crc32(name.encode())  # fits a PostgreSQL bigint
        self.engine: Engine | None = None
        self.conn = None

    def try_acquire(self) -> bool:
        if self.conn is not None:
            return self.renew()
        if self.engine is None:
            self.engine = create_engine(self.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        conn = self.engine.connect()
        try:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
        except Exception:
            conn.close()
            raise
        if got:
            self.conn = conn
        else:
            conn.close()
        return got

    def renew(self) -> bool:
        """Still the leader? (the lock lives as long as the connection)"""
        if self.conn is None:
            return False
        try:
            self.conn.execute(text("SELECT 1"))
            return True
        except Exception:
            log.warning("connexion du verrou du planificateur perdue : fin du rôle de meneur")
            self._drop()
            return False

    def release(self) -> None:
        if self.conn is None:
            return
        try:
            self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        except Exception:
            pass
        self._drop()

    def _drop(self) -> None:
        try:
            self.conn.close()
        except Exception:
            pass
        self.conn = None


class LeaseLock:
    """A row in scheduler_leases: one holder at a time, until `expires_at`."""

    def __init__(self, engine: Engine, name: str = LOCK_NAME, holder: str | None = None,
                 lease_seconds: int = LEASE_SECONDS, now=clock.now):
        self.engine = engine
        self.name = name
        self.holder = holder or holder_id()
        self.lease = timedelta(seconds=lease_seconds)
        self.now = now
        self.held = False

    def try_acquire(self) -> bool:
        at = self.now()
        table = SchedulerLease.__table__
        with self.engine.begin() as conn:
            # Atomic: take it if it is ours or has expired.
            taken = conn.execute(
                update(table)
                .where(table.c.name == self.name,
                       (table.c.holder == self.holder) | (table.c.expires_at < at))
                .values(holder=self.holder, acquired_at=at, expires_at=at + self.lease)
            ).rowcount
        if not taken:
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(table).values(name=self.name, holder=self.holder, acquired_at=at,
                                                      expires_at=at + self.lease))
                taken = 1
            except IntegrityError:
                taken = 0  # someone else holds a valid lease
        self.held = bool(taken)
        return self.held

    def renew(self) -> bool:
        at = self.now()
        table = SchedulerLease.__table__
        try:
            with self.engine.begin() as conn:
                renewed = conn.execute(
                    update(table)
                    .where(table.c.name == self.name, table.c.holder == self.holder, table.c.expires_at >= at)
                    .values(expires_at=at + self.lease)
                ).rowcount
        except Exception:
            log.exception("renouvellement du bail du planificateur impossible")
            renewed = 0
        self.held = bool(renewed)
        return self.held

    def release(self) -> None:
        table = SchedulerLease.__table__
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(table).where(table.c.name == self.name, table.c.holder == self.holder))
        except Exception:
            log.exception("libération du bail du planificateur impossible")
        self.held = False


def make_lock(engine: Engine):
    if engine.dialect.name == "postgresql":
        return PgAdvisoryLock(engine.url)
    return LeaseLock(engine)


# ----------------------------------------------------------------- the job store --

def _job_store(engine: Engine):
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    class CepJobStore(SQLAlchemyJobStore):
        """APScheduler's store on the table declared in jobs_models (migrations know it)."""

        def __init__(self):
            super().__init__(engine=engine)
            self.jobs_t = apscheduler_jobs

    return CepJobStore()


def _scheduled_run(name: str) -> None:
    """What APScheduler calls (by reference, so the persisted job stays valid)."""
    from .scheduler import run_job

    service = SchedulerService.current
    if service is None or not service.still_leader():
        return  # lost the lock since this run was due: the new leader runs it
    with service.app.app_context():
        try:
            run_job(name, trigger="schedule")
        except Exception:  # unknown job (removed since): the scheduler keeps running
            log.exception("exécution planifiée de %s impossible", name)


def sync_jobs(scheduler, jobs) -> None:
    """Put every registered job in the store; keep a stored next run time when the
    schedule did not change (so a run missed while no process was up still happens)."""
    stored = {job.id: job for job in scheduler.get_jobs()}
    for name, spec in jobs.items():
        trigger = spec.aps_trigger()
        old = stored.pop(name, None)
        if old is not None and str(old.trigger) == str(trigger) and old.args == (name,):
            continue
        scheduler.add_job("platform_core.scheduler_runtime:_scheduled_run", trigger=trigger, args=[name],
                          id=name, name=name, replace_existing=True, coalesce=True, max_instances=1,
                          misfire_grace_time=MISFIRE_GRACE_SECONDS)
    for job_id in stored:  # a job no longer registered by any domain
        scheduler.remove_job(job_id)


class SchedulerService:
    """Leader election loop + APScheduler for the leader. One per process."""

    current: "SchedulerService | None" = None

    def __init__(self, app, lock=None, renew_seconds: int = RENEW_SECONDS):
        from .extensions import db

        self.app = app
        with app.app_context():
            self.engine = db.engine
        self.lock = lock or make_lock(self.engine)
        self.renew_seconds = renew_seconds
        self.scheduler = None
        self.is_leader = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._mutex = threading.Lock()  # the lock's connection is not shared between threads

    def still_leader(self) -> bool:
        with self._mutex:
            return self.is_leader and self.lock.renew()

    def start(self) -> None:
        SchedulerService.current = self
        self._thread = threading.Thread(target=self._loop, name="cep-scheduler", daemon=True)
        self._thread.start()
        atexit.register(self.stop)

    def step(self) -> bool:
        """One election round; returns whether this process leads afterwards."""
        with self._mutex:
            return self._step()

    def _step(self) -> bool:
        try:
            if self.is_leader:
                if not self.lock.renew():
                    log.warning("bail du planificateur perdu : arrêt de l'exécution des tâches ici")
                    self._stop_scheduler()
            elif self.lock.try_acquire():
                self._start_scheduler()
        except Exception:
            log.exception("élection du planificateur impossible (nouvel essai dans %s s)", self.renew_seconds)
            if self.is_leader:
                self._stop_scheduler()
        return self.is_leader

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.step()
            self._stop.wait(self.renew_seconds)

    def _start_scheduler(self) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        from .scheduler import JOBS

        scheduler = BackgroundScheduler(jobstores={"default": _job_store(self.engine)}, timezone=clock.PARIS,
                                        job_defaults={"coalesce": True, "max_instances": 1})
        scheduler.start(paused=True)
        sync_jobs(scheduler, JOBS)
        scheduler.resume()
        self.scheduler, self.is_leader = scheduler, True
        log.info("ce processus (%s) exécute les tâches planifiées", os.getpid())

    def _stop_scheduler(self) -> None:
        if self.scheduler is not None:
            try:
                self.scheduler.shutdown(wait=False)
            except Exception:
                pass
        self.scheduler, self.is_leader = None, False

    def stop(self) -> None:
        self._stop.set()
        with self._mutex:
            was_leader = self.is_leader
            self._stop_scheduler()
            if was_leader:
                self.lock.release()
        if SchedulerService.current is self:
            SchedulerService.current = None


_start_lock = threading.Lock()


def should_run(app) -> bool:
    return bool(app.config.get("SCHEDULER_ENABLED", True) and not app.config.get("TESTING")
                and os.environ.get("CEP_RUN_SCHEDULER", "1") != "0")


def start_once(app) -> None:
    """Start this process's service (first request of a web process)."""
    if SchedulerService.current is not None or not should_run(app):
        return
    with _start_lock:
        if SchedulerService.current is None:
            SchedulerService(app).start()
