"""The national and regional indicator pages' cache: the rendered body of the page kept in
memory (platform_core.memo), keyed by a fingerprint of ALL its inputs, read from the
database on every request. A deposit, a threshold change or a contract change gives
another key at once: nothing to expire, nothing stale (docs/workbooks.md, « Performance »).

The key:
- the page (scope, title, the year asked for, the application's URL root);
- the contracts of the scope, with what the page shows or computes from them (reference,
  region, committed capacity), as loaded for this request and reused on a miss;
- the current versions of those contracts: (id, contract, year). A version's counts,
  means and finances are written in its deposit transaction and never changed; a new
  deposit inserts a new id and switches `is_current` in the same transaction;
- the alert thresholds rows: (year, version). Their version counter grows at each change.

Version ids and threshold versions only move forward, so an older key never comes back,
and an entry computed after its key was read may hold newer data, never older. The body
holds no per-user element (no form, no CSRF token): the layout around it is rendered per
request. Only GET pages use this; the xlsx export computes every time.
"""
from __future__ import annotations

from flask import request
from sqlalchemy import select

from platform_core.extensions import db
from platform_core.memo import MemoryCache, app_cache
from tenders.models import Contract

from .models import AlertThresholds, WorkbookVersion

MAX_ENTRIES = 24  # the nation and each region, for a couple of years


def cache() -> MemoryCache:
    return app_cache("indicators_pages", MAX_ENTRIES)


def page_key(scope: str, title: str, contracts: list[Contract], year: int | None) -> tuple:
    ids = [c.id for c in contracts]
    versions = tuple(db.session.execute(
        select(WorkbookVersion.id, WorkbookVersion.contract_id, WorkbookVersion.year)
        .where(WorkbookVersion.contract_id.in_(ids), WorkbookVersion.is_current.is_(True))
        .order_by(WorkbookVersion.id)).tuples()) if ids else ()
    thresholds = tuple(db.session.execute(
        select(AlertThresholds.year, AlertThresholds.version).order_by(AlertThresholds.year)).tuples())
    scope_contracts = tuple((c.id, c.reference, c.region_code, c.annual_capacity) for c in contracts)
    return (scope, title, year, request.script_root, scope_contracts, versions, thresholds)
