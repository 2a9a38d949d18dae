"""Tables of the scheduler and of notifications: job runs, the leader lease, the
APScheduler job store, notifications and the development outbox."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, Column, Float, ForeignKey, Index, LargeBinary, String, Table, Text,
                        UniqueConstraint, Unicode)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .clock import now
from .extensions import db
from .models import User

EMAIL_STATUSES = {
    "pending": "à envoyer",
    "sending": "envoi en cours",
    "sent": "envoyé",
    "failed": "échec (nouvel essai prévu)",
    "none": "pas de courriel",
}
OUTCOMES = {"running": "en cours", "ok": "réussie", "error": "en erreur"}
TRIGGERS = {"manual": "manuelle", "schedule": "planifiée"}


class Notification(db.Model):
    """One message to one user. `key` makes it idempotent: (user, key) is unique."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500))
    key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=now)
    read_at: Mapped[datetime | None]
    email_status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_notifications_user_key"),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
    )

    @property
    def email_status_label(self) -> str:
        return EMAIL_STATUSES.get(self.email_status, self.email_status)


class OutboxMail(db.Model):
    """Development mail box: with no SMTP_HOST, mails are written here instead."""

    __tablename__ = "outbox_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(1000))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now, index=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"))


class JobRun(db.Model):
    """One execution of a registered job, scheduled or manual."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(String(100))
    trigger: Mapped[str] = mapped_column(String(10), default="manual")
    started_at: Mapped[datetime] = mapped_column(default=now)
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(10), default="running")
    counts: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(200), default="")
    pid: Mapped[int] = mapped_column(default=0)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (Index("ix_job_runs_job_started", "job_name", "started_at"),)

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome, self.outcome)

    @property
    def trigger_label(self) -> str:
        return TRIGGERS.get(self.trigger, self.trigger)


class SchedulerLease(db.Model):
    """Leader lease (used where PostgreSQL advisory locks are not available): the
    holder renews `expires_at`; once it stops, another process may take over."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime]


# APScheduler's SQLAlchemyJobStore table, declared here (same columns as the job
# store defines) so that migrations and the test schema know it.
apscheduler_jobs = Table(
    "apscheduler_jobs",
    db.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
