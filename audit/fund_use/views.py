"""Report pages: national (with regions and contracts), one region, one contract, each
with a printable view; the xlsx export. Payments pages are in payment_views.py."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from platform_core.clock import today_paris
from platform_core.errors import render_error
from platform_core.exports import xlsx_response
from platform_core.roles import ACHETEUR, ADMIN, OBSERVATEUR, OPERATEUR, allow
from platform_core.ui import Attention, register_dashboard, register_nav
from quality_framework.fund_use_report import SUMMARY_COLUMNS, summary

from . import presentation
from .report_cache import cached_report
from .services import (
    MAX_YEAR, MIN_YEAR, contract_funds_of_year, filter_report, payments_of, scope_for,
    visible_contract, years_available,
)

bp = Blueprint("fund_use", __name__, url_prefix="/usage-des-fonds")
REPORT_ROLES = (ADMIN, ACHETEUR, OPERATEUR, OBSERVATEUR)
register_nav("Usage des fonds", "audit.fund_use.index", set(REPORT_ROLES), order=30)


class BadYear(ValueError):
    pass


def requested_year() -> int:
    """?annee=N, or the last complete year by default."""
    raw = request.args.get("annee")
    if raw is None or raw == "":
        return today_paris().year - 1
    if not raw.isdigit() or not MIN_YEAR <= int(raw) <= MAX_YEAR:
        raise BadYear(f"Année « {raw[:20]} » invalide : attendu une année sur quatre chiffres "
                      f"entre {MIN_YEAR} et {MAX_YEAR}, par exemple {today_paris().year - 1}.")
    return int(raw)


# The columns of the summary tables on the pages (the xlsx has every column).
PAGE_COLUMNS = tuple(c for c in SUMMARY_COLUMNS if c[0] in (
    "annual_price", "paid_total", "variable_earned", "balance", "fc_gap_flagged", "entrees",
    "taux_realisation", "cout_par_entree", "taux_satisfaits", "alerts"))


def _common(year: int) -> dict:
    return {
        "year": year, "years": years_available() or [year],
        "print_view": request.args.get("impression") == "1",
        "page_columns": PAGE_COLUMNS, "summary": summary,
        "can_pay": current_user.has_role(ADMIN, ACHETEUR),
        "region_link": lambda b: url_for("audit.fund_use.region", code=b["id"], annee=year),
        "contract_link": lambda b: url_for("audit.fund_use.contract", contract_id=b["id"],
                                           annee=year),
    }


@bp.route("/")
@allow(*REPORT_ROLES)
def index():
    try:
        year = requested_year()
    except BadYear as exc:
        return render_error(400, str(exc))
    scope = scope_for(current_user)
    report = filter_report(cached_report(year), scope)
    charts = []
    if report["regions"]:
        charts.append(presentation.cost_per_entry_chart(report["regions"],
                                                        report["medians"]["cout_par_entree"], "région"))
        charts.append(presentation.entries_chart(report["regions"], "région"))
    if report["contracts"]:
        charts.append(presentation.cost_per_entry_chart(report["contracts"],
                                                        report["medians"]["cout_par_entree"], "contrat"))
    stacked = presentation.charges_chart(report["regions"] or report["contracts"],
                                         "région" if report["regions"] else "contrat")
    if stacked:
        charts.append(stacked)
    charts += presentation.trend_charts(report.get("evolution"), "national")
    evolution = report.get("evolution") or {}
    national_evolution = (dict(zip(evolution["years"], evolution["national"]))
                          if evolution.get("national") else None)
    return render_template("audit/fund_use/index.html", report=report, scope=scope,
                           charts=charts, national_evolution=national_evolution,
                           **_common(year))


@bp.route("/region/<code>")
@allow(*REPORT_ROLES)
def region(code: str):
    try:
        year = requested_year()
    except BadYear as exc:
        return render_error(400, str(exc))
    scope = scope_for(current_user)
    if not scope.sees_region(code):
        abort(404)
    report = filter_report(cached_report(year), scope)
    block = next((r for r in report["regions"] if r["id"] == code), None)
    if block is None:
        abort(404)
    contracts = [b for b in report["contracts"] if b["region_code"] == code]
    charts = [presentation.cost_per_entry_chart(contracts, report["medians"]["cout_par_entree"],
                                                "contrat"),
              presentation.entries_chart(contracts, "contrat")]
    stacked = presentation.charges_chart(contracts, "contrat")
    if stacked:
        charts.append(stacked)
    charts += presentation.trend_charts(report.get("evolution"), "regions", code, block["label"])
    return render_template("audit/fund_use/region.html", report=report, block=block,
                           contracts=contracts, charts=charts, **_common(year))


@bp.route("/contrat/<int:contract_id>")
@allow(*REPORT_ROLES)
def contract(contract_id: int):
    c = visible_contract(contract_id, current_user)
    if c is None:
        abort(404)
    try:
        year = requested_year()
    except BadYear as exc:
        return render_error(400, str(exc))
    report = cached_report(year)
    block = next((b for b in report["contracts"] if b["id"] == c.id), None)
    charts = presentation.trend_charts(report.get("evolution"), "contracts", c.id, c.reference)
    if block is not None:
        stacked = presentation.charges_chart([block], "contrat")
        if stacked:
            charts.insert(0, stacked)
    return render_template("audit/fund_use/contract.html", contract=c, block=block,
                           report=report, charts=charts, payments=payments_of(c.id),
                           reversed_ids={p.reverses_payment_id for p in payments_of(c.id)},
                           **_common(year))


@bp.route("/export.xlsx")
@allow(*REPORT_ROLES)
def export():
    from .export import report_workbook

    try:
        year = requested_year()
    except BadYear as exc:
        return render_error(400, str(exc))
    report = filter_report(cached_report(year), scope_for(current_user))
    return xlsx_response(report_workbook(report), f"usage-des-fonds-{year}.xlsx")


# --------------------------------------------------------------------------- dashboard

@register_dashboard
def fund_use_attention(user) -> list[Attention]:
    """Officers: last year's contracts overpaid, or whose variable part is not yet paid."""
    if not user.has_role(ACHETEUR):
        return []
    year = today_paris().year - 1
    contracts = contract_funds_of_year(year)  # funds of that year only, not the whole report
    items = []
    overpaid = [b for b in contracts if b["funds"]["balance"]["status"] == "TROP_PERCU"]
    unpaid = [b for b in contracts
              if b["funds"]["variable_earned"] > 0 and b["funds"]["paid_by_kind"]["VARIABLE"] == 0]
    if overpaid:
        items.append(Attention(
            f"Trop-perçus {year}",
            "Contrats avec un trop-perçu à régulariser : "
            + ", ".join(b["reference"] for b in overpaid[:10]),
            url_for("audit.fund_use.index", annee=year), "warning", len(overpaid)))
    if unpaid:
        items.append(Attention(
            f"Part variable {year} non versée",
            "Contrats dont la part variable gagnée n'a pas encore été payée : "
            + ", ".join(b["reference"] for b in unpaid[:10]),
            url_for("audit.fund_use.index", annee=year), "info", len(unpaid)))
    return items


from . import payment_views  # noqa: E402,F401  (registers the payment routes on bp)
