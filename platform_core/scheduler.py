"""Periodic jobs. Domains register plain functions here; the scheduler issue
(persisted APScheduler jobs, one runner across workers, run records) runs them.

    register_job("cloture_appels_offres", close_due_tenders,
                 trigger={"minute": "*/5"}, description="Clôture les consultations…")

A job function takes the current time (naive UTC) and returns a dict of counts
describing what it did; it must be idempotent (running it twice does nothing twice)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: Callable[[datetime], dict]
    trigger: dict = field(default_factory=dict)  # APScheduler cron fields
    description: str = ""


JOBS: dict[str, JobSpec] = {}


def register_job(name: str, func: Callable[[datetime], dict], trigger: dict, description: str) -> None:
    JOBS[name] = JobSpec(name, func, dict(trigger), description)
