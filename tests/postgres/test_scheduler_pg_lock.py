"""PostgreSQL: the advisory lock elects exactly one scheduler; when the holder's
connection goes away (process death), another one takes over."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, select, text

from platform_core import create_app
from platform_core.extensions import db
from platform_core.jobs_models import apscheduler_jobs
from platform_core.scheduler import JOBS, register_job
from platform_core.scheduler_runtime import PgAdvisoryLock, SchedulerService

pytestmark = pytest.mark.postgres
DB_NAME = "cep_scheduler_lock"


@pytest.fixture
def lock_db(pg_url):
    """A separate database on the test server, with the scheduler tables."""
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {DB_NAME}"))
    url = pg_url.rsplit("/", 1)[0] + f"/{DB_NAME}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"))
    admin.dispose()


def _eventually(check, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_advisory_lock_one_holder_and_takeover(lock_db):
    a, b = PgAdvisoryLock(lock_db, name="essai"), PgAdvisoryLock(lock_db, name="essai")
    try:
        assert a.try_acquire() is True
        assert b.try_acquire() is False
        assert a.renew() is True and a.try_acquire() is True  # re-entrant for the holder
        a.release()
        assert b.try_acquire() is True  # orderly release
        # the holder dies: its connection closes, the server frees the lock
        b.conn.invalidate()  # drop the DBAPI connection as a crash would
        assert b.renew() is False
        assert _eventually(a.try_acquire)
        assert b.try_acquire() is False
    finally:
        a.release()
        b.release()


def test_two_services_on_postgresql(lock_db, tmp_path):
    saved = dict(JOBS)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": lock_db, "INSTANCE_DIR": str(tmp_path),
                      "UPLOAD_DIR": str(tmp_path / "files"), "SCHEDULER_ENABLED": False})
    JOBS.clear()  # after create_app, which registers the core jobs
    register_job("annuelle", lambda now: {}, {"month": 1, "day": 1, "hour": 0, "minute": 0}, "Essai")
    a = b = None
    try:
        with app.app_context():
            db.create_all()
            a, b = SchedulerService(app), SchedulerService(app)
            assert isinstance(a.lock, PgAdvisoryLock)
            assert a.step() is True and b.step() is False
            assert db.session.scalars(select(apscheduler_jobs.c.id)).all() == ["annuelle"]
            a.lock.conn.invalidate()  # the leader's machine vanishes
            assert a.step() is False and a.scheduler is None
            assert _eventually(b.step)
            assert b.scheduler is not None
            db.session.remove()
    finally:
        for s in (a, b):
            if s:
                s.stop()
        with app.app_context():
            db.engine.dispose()
        JOBS.clear()
        JOBS.update(saved)
