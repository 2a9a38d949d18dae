"""Outputs: the « rapport d'analyse des offres » (printable page and xlsx), the
published results per lot, and the OCDS JSON export."""
from __future__ import annotations

from flask import abort, jsonify, render_template
from flask_login import current_user
from sqlalchemy import select

from platform_core.clock import now
from platform_core.exports import xlsx_response
from platform_core.extensions import db
from platform_core.roles import ACHETEUR, ADMIN, EVALUATEUR, OBSERVATEUR, OPERATEUR, allow

from .models import CREFOP_OPINIONS, Contract
from .ocds import release_package
from .report import build_xlsx, report_headers, report_row, tender_rows
from .services import criterion_label, get_tender, is_officer, load_bids, lot_of_user_region
from .views import bp

UNSEALED = ("OUVERTE", "EN_EVALUATION", "CLASSEE", "ATTRIBUEE")


def _unsealed_tender(tender_id: int):
    tender = get_tender(tender_id, current_user)
    if tender.effective_status() not in UNSEALED and not (
            tender.status == "ANNULEE" and not tender.is_sealed() and tender.closing_recorded_at):
        abort(404)  # sealed: the report does not exist yet
    return tender


@bp.route("/<int:tender_id>/rapport")
@allow(ADMIN, ACHETEUR)
def report(tender_id: int):
    tender = _unsealed_tender(tender_id)
    lots = tender_rows(tender)
    return render_template("tenders/report.html", tender=tender, lots=lots, headers=report_headers(tender),
                           row=lambda r: report_row(tender, r), label=lambda c: criterion_label(tender, c),
                           generated=now())


@bp.route("/<int:tender_id>/rapport.xlsx")
@allow(ADMIN, ACHETEUR)
def report_xlsx(tender_id: int):
    tender = _unsealed_tender(tender_id)
    return xlsx_response(build_xlsx(tender), f"rapport-analyse-{tender.reference}.xlsx")


@bp.route("/<int:tender_id>/resultats")
@allow(ADMIN, ACHETEUR, EVALUATEUR, OPERATEUR, OBSERVATEUR)
def results(tender_id: int):
    tender = get_tender(tender_id, current_user)
    lots = [lot for lot in tender.lots if lot.status in ("ATTRIBUE", "INFRUCTUEUX")]
    if current_user.has_role(OBSERVATEUR) and not is_officer(current_user):
        lots = [lot for lot in lots if lot_of_user_region(lot, current_user)]
    load_bids(lots)  # winners and their operators: a few statements, not one per lot
    contracts = {c.lot_id: c for c in db.session.scalars(
        select(Contract).where(Contract.lot_id.in_([lot.id for lot in lots] or [0]))).all()}
    winners = {lot.id: next((b for b in lot.bids if b.id == lot.awarded_bid_id), None) for lot in lots}
    return render_template("tenders/results.html", tender=tender, lots=lots, contracts=contracts,
                           winners=winners, opinions=CREFOP_OPINIONS)


@bp.route("/<int:tender_id>/ocds.json")
@allow(ADMIN, ACHETEUR, EVALUATEUR, OPERATEUR, OBSERVATEUR)
def ocds(tender_id: int):
    tender = get_tender(tender_id, current_user)
    response = jsonify(release_package(tender))
    response.headers["Content-Disposition"] = f'attachment; filename="ocds-{tender.reference}.json"'
    return response
