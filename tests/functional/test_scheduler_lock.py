"""One leader among several processes: the SQLite lease (expiry, takeover) and the
scheduler service that runs APScheduler with its jobs persisted in the database."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from platform_core.extensions import db
from platform_core.jobs_models import SchedulerLease, apscheduler_jobs
from platform_core.scheduler import JOBS, next_run_times, register_job
from platform_core.scheduler_runtime import LeaseLock, SchedulerService, should_run


class Clock:
    def __init__(self):
        self.at = datetime(2026, 2, 1, 12, 0, 0)

    def __call__(self):
        return self.at

    def advance(self, seconds):
        self.at += timedelta(seconds=seconds)


def test_lease_one_holder_renewal_expiry_and_takeover(app):
    clock = Clock()
    a = LeaseLock(db.engine, holder="machine-a:1", lease_seconds=90, now=clock)
    b = LeaseLock(db.engine, holder="machine-b:2", lease_seconds=90, now=clock)
    assert a.try_acquire() is True
    assert b.try_acquire() is False
    clock.advance(60)
    assert a.renew() is True  # valid until +150
    clock.advance(60)
    assert b.try_acquire() is False  # +120: still held
    # a dies: it stops renewing; after expiry b takes over
    clock.advance(31)
    assert b.try_acquire() is True
    assert a.renew() is False and a.try_acquire() is False
    lease = db.session.scalars(select(SchedulerLease)).one()
    assert lease.holder == "machine-b:2" and lease.expires_at == clock.at + timedelta(seconds=90)
    # an orderly release lets the other one in at once
    b.release()
    assert a.try_acquire() is True


@pytest.fixture
def quiet_jobs():
    """A registry whose only job never fires during the test."""
    saved = dict(JOBS)
    JOBS.clear()
    register_job("annuelle", lambda now: {"fait": 1}, {"month": 1, "day": 1, "hour": 0, "minute": 0}, "Essai")
    yield
    JOBS.clear()
    JOBS.update(saved)


def test_two_services_one_leader_jobs_persisted_and_takeover(app, quiet_jobs):
    clock = Clock()
    a = SchedulerService(app, lock=LeaseLock(db.engine, holder="a", now=clock))
    b = SchedulerService(app, lock=LeaseLock(db.engine, holder="b", now=clock))
    try:
        assert a.step() is True and a.scheduler is not None
        assert b.step() is False and b.scheduler is None
        stored = db.session.execute(select(apscheduler_jobs.c.id, apscheduler_jobs.c.next_run_time)).all()
        assert [row.id for row in stored] == ["annuelle"] and stored[0].next_run_time is not None
        nxt = next_run_times()["annuelle"]
        assert (nxt.month, nxt.day) in {(12, 31), (1, 1)}  # 00:00 Paris = 23:00 UTC the day before

        assert a.step() is True and b.step() is False  # renewals
        a.stop()  # orderly shutdown releases the lease
        assert a.is_leader is False
        assert b.step() is True and b.scheduler is not None
        # the persisted job is reused, not duplicated
        ids = db.session.scalars(select(apscheduler_jobs.c.id)).all()
        assert ids == ["annuelle"]
    finally:
        a.stop()
        b.stop()


def test_leader_steps_down_when_its_lease_is_taken(app, quiet_jobs):
    clock = Clock()
    a = SchedulerService(app, lock=LeaseLock(db.engine, holder="a", now=clock))
    b = SchedulerService(app, lock=LeaseLock(db.engine, holder="b", now=clock))
    try:
        assert a.step() is True
        clock.advance(200)  # a hung past its lease
        assert b.step() is True
        assert a.step() is False and a.scheduler is None  # a notices and stops running jobs
    finally:
        a.stop()
        b.stop()


def test_removed_jobs_leave_the_store(app, quiet_jobs):
    a = SchedulerService(app, lock=LeaseLock(db.engine, holder="a"))
    try:
        a.step()
        a.stop()
        JOBS.pop("annuelle")
        register_job("autre", lambda now: {}, {"hour": 5, "minute": 0}, "Autre")
        a2 = SchedulerService(app, lock=LeaseLock(db.engine, holder="a2"))
        a2.step()
        assert db.session.scalars(select(apscheduler_jobs.c.id)).all() == ["autre"]
        a2.stop()
    finally:
        a.stop()


def test_not_started_under_testing_or_when_disabled(app, monkeypatch):
    assert should_run(app) is False  # TESTING
    app.config.update(TESTING=False, SCHEDULER_ENABLED=True)
    try:
        assert should_run(app) is True
        monkeypatch.setenv("CEP_RUN_SCHEDULER", "0")
        assert should_run(app) is False
        monkeypatch.delenv("CEP_RUN_SCHEDULER")
        app.config["SCHEDULER_ENABLED"] = False
        assert should_run(app) is False
    finally:
        app.config["TESTING"] = True
    # the CLI never starts it: requests do, and the test client made none here
    assert SchedulerService.current is None
