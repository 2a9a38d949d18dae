"""The report pages' cache: the computed report kept in memory, keyed by a fingerprint
of ALL its inputs, read from the database on every request (docs/fund-use.md,
« Performance »). A payment, a deposit, a contract change or an audit validation gives
another key at once: nothing to expire, nothing stale.

The key, for year N:
- contracts (with their operator's name) and the latest audit scores: the exact inputs,
  read on every request (two small queries) and reused as the inputs on a miss;
- payments: (count, highest id, sum). Payments are insert-only (the model refuses UPDATE
  and DELETE; a mistake is reversed by a new REGULARISATION), so a new payment always
  changes the count and the highest id;
- workbooks: the ids of the current versions. A version's counts, means and finances are
  written in its deposit transaction and never changed; a new deposit inserts a new id and
  switches `is_current` in the same transaction;
- the alert thresholds.

The fingerprint is read BEFORE the payments and versions it stands for: an entry may hold
data newer than its key, never older, and as payment counts and version ids only move
forward, an older key never comes back. Only the GET pages use this (they have written
nothing in their transaction); the CLI, the demo and the tests call `compute_report`.
One cache per application (platform_core.memo), so that a test application never sees the
entries of another database. The report returned is shared: callers must not modify it.
"""
from __future__ import annotations

from sqlalchemy import func, select

from platform_core.extensions import db
from platform_core.memo import MemoryCache, app_cache
from quality_framework.alerts import DEFAULT_THRESHOLDS
from quality_framework.fund_use_report import build_report

from .models import Payment
from .services import audit_scores, contract_inputs, current_versions, payment_inputs

MAX_ENTRIES = 4  # a few years / states per worker; one national report is a few hundred KB


def cache() -> MemoryCache:
    return app_cache("fund_use_report", MAX_ENTRIES)


def _payments_fingerprint() -> tuple:
    return tuple(db.session.execute(
        select(func.count(Payment.id), func.max(Payment.id), func.sum(Payment.amount))).one())


def _current_version_ids() -> tuple[int, ...]:
    from audit.workbooks.models import WorkbookVersion

    return tuple(db.session.scalars(select(WorkbookVersion.id)
                                    .where(WorkbookVersion.is_current.is_(True))
                                    .order_by(WorkbookVersion.id)))


def cached_report(year: int) -> dict[str, Any]:
    """The full report of `year` (with its evolution), computed at most once per state of
    its inputs."""
    contracts = contract_inputs()
    scores = audit_scores([c.id for c in contracts])
    thresholds = dict(DEFAULT_THRESHOLDS)
    key = (year, tuple(sorted(thresholds.items())), tuple(contracts),
           tuple(sorted(scores.items())), _payments_fingerprint(), _current_version_ids())
    store = cache()
    report = store.get(key)
    if report is None:
        report = build_report(year, contracts, payment_inputs(), current_versions(), scores,
                              thresholds)
        store.put(key, report)
    return report
