"""Who sees which contract's workbooks and indicators (object level; roles are on routes).

- operateur: the contracts of its own organisation only; anything else answers 404;
- acheteur, admin: everything;
- observateur: the contracts of its region, or all when national (region_code None);
- auditeur: read access to every contract's indicators (the audit assignment tables are
  built in parallel; a follow-up can narrow this to the contracts it audits).
"""
from __future__ import annotations

from flask import abort
from sqlalchemy import Select, select

from platform_core.extensions import db
from platform_core.roles import ACHETEUR, ADMIN, AUDITEUR, OBSERVATEUR, OPERATEUR
from tenders.models import Contract

from .models import WorkbookUpload, WorkbookVersion

OFFICERS = (ADMIN, ACHETEUR)
READERS = (ADMIN, ACHETEUR, OBSERVATEUR, AUDITEUR)
EVERYONE = (ADMIN, ACHETEUR, OPERATEUR, OBSERVATEUR, AUDITEUR)


def sees_all(user) -> bool:
    if user.has_role(ADMIN, ACHETEUR, AUDITEUR):
        return True
    return user.has_role(OBSERVATEUR) and user.region_code is None


def contracts_query(user) -> Select:
    """SELECT Contract visible to the user (ordered by region then reference)."""
    q = select(Contract).order_by(Contract.region_code, Contract.reference)
    if sees_all(user):
        return q
    clauses = []
    if user.has_role(OBSERVATEUR) and user.region_code:
        clauses.append(Contract.region_code == user.region_code)
    if user.has_role(OPERATEUR) and user.organisation_id:
        clauses.append(Contract.operator_id == user.organisation_id)
    if not clauses:
        return q.where(Contract.id.is_(None))
    from sqlalchemy import or_

    return q.where(or_(*clauses))


def visible_contracts(user) -> list[Contract]:
    return list(db.session.scalars(contracts_query(user)))


def can_see_contract(user, contract: Contract | None) -> bool:
    if contract is None:
        return False
    if sees_all(user):
        return True
    if user.has_role(OPERATEUR) and user.organisation_id == contract.operator_id:
        return True
    return bool(user.has_role(OBSERVATEUR) and user.region_code
                and user.region_code == contract.region_code)


def contract_or_404(user, contract_id: int) -> Contract:
    contract = db.session.get(Contract, contract_id)
    if not can_see_contract(user, contract):
        abort(404)
    return contract


def own_contract_or_404(user, contract_id: int) -> Contract:
    """Contracts a user may deposit for: an operator's own (officers may not deposit)."""
    contract = db.session.get(Contract, contract_id)
    if contract is None or not user.has_role(OPERATEUR) or contract.operator_id != user.organisation_id:
        abort(404)
    return contract


def version_or_404(user, version_id: int) -> WorkbookVersion:
    version = db.session.get(WorkbookVersion, version_id)
    if version is None or not can_see_contract(user, version.contract):
        abort(404)
    return version


def upload_or_404(user, upload_id: int) -> WorkbookUpload:
    """An upload's report: its operator's staff and officers only (not observers)."""
    upload = db.session.get(WorkbookUpload, upload_id)
    if upload is None:
        abort(404)
    if user.has_role(*OFFICERS):
        return upload
    if user.has_role(OPERATEUR) and upload.contract.operator_id == user.organisation_id:
        return upload
    abort(404)


def region_visible(user, region_code: str) -> bool:
    return sees_all(user) or (user.has_role(OBSERVATEUR) and user.region_code == region_code)
