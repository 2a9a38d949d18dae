"""Outputs: the audit report (printable page and xlsx), the national heat map of
ratings (operator × indicator), score trends across years and each operator's history."""
from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from platform_core.exports import add_table, new_workbook, workbook_bytes, xlsx_response
from platform_core.extensions import db
from platform_core.formatting import fr_date, fr_percent
from platform_core.models import Organisation
from platform_core.roles import ACHETEUR, ADMIN, AUDITEUR, OBSERVATEUR, OPERATEUR, allow
from quality_framework.audit_rules import RATING_LABELS, Rating
from tenders.models import Contract

from .models import Audit, AuditRating
from .referentials import all_versions, referential_of
from .services import (
    FINAL_STATES,
    action_overdue,
    actions_of,
    can_see_internals,
    findings_of,
    is_audit_operator,
    is_officer,
    linked_figures,
    ratings_by_indicator,
    referential_for,
    score_of,
    visible_audits_query,
)
from .views import bp, get_audit_or_404

# Short cell texts of the heat map (the full label is in the cell's <abbr title>).
SHORT = {"CONFORME": "Conf.", "NC_MINEURE": "NC min.", "NC_MAJEURE": "NC maj.", "NON_APPLICABLE": "N/A"}

try:  # shared SVG charts (platform_core/charts.py); the data table is always shown
    from platform_core.charts import line_chart
except ImportError:  # pragma: no cover - until the charts module lands
    line_chart = None


def _report_audit(audit_id: int) -> Audit:
    audit = get_audit_or_404(audit_id)
    final = audit.state in FINAL_STATES
    if not (can_see_internals(current_user, audit) or (is_audit_operator(current_user, audit) and final)):
        abort(404)
    return audit


def report_data(audit: Audit) -> dict:
    ref = referential_for(audit)
    rows = ratings_by_indicator(audit)
    figures = linked_figures(audit.contract, audit.year)
    axes = []
    for axis in ref.axes():
        leaves = [{"node": leaf, "row": rows.get(leaf.id), "figures": figures.figures_for(leaf.links),
                   "alerts": figures.alerts_for(leaf.links)} for leaf in axis.iter_leaves()]
        axes.append({"node": axis, "leaves": leaves})
    findings = findings_of(audit)
    actions = {a.finding_id: a for a in actions_of(audit)}
    return dict(audit=audit, ref=ref, axes=axes, score=score_of(audit), figures=figures,
                findings=[(f, actions.get(f.id)) for f in findings], overdue=action_overdue,
                rating_labels=RATING_LABELS)


@bp.route("/<int:audit_id>/rapport")
@allow(ADMIN, ACHETEUR, AUDITEUR, OPERATEUR)
def report(audit_id: int):
    return render_template("audit/quality/report.html", **report_data(_report_audit(audit_id)))


def _label(rating: str | None) -> str:
    return RATING_LABELS[Rating(rating)] if rating else "non noté"


@bp.route("/<int:audit_id>/rapport.xlsx")
@allow(ADMIN, ACHETEUR, AUDITEUR, OPERATEUR)
def report_xlsx(audit_id: int):
    data = report_data(_report_audit(audit_id))
    audit, score = data["audit"], data["score"]
    wb = new_workbook()
    add_table(wb.create_sheet("Contexte"), ["Champ", "Valeur"], [
        ["Opérateur", audit.operator.name],
        ["Marché", audit.contract.reference],
        ["Région", audit.contract.region_code],
        ["Année auditée", audit.year],
        ["Référentiel", f"version {audit.referential_version.number} — {audit.referential_version.label}"],
        ["Auditeur principal", audit.lead_auditor.full_name if audit.lead_auditor else ""],
        ["État", audit.state_label],
        ["Validé le", fr_date(audit.validated_on)],
        ["Score", fr_percent(score.score)],
        ["Non-conformité majeure", "oui" if score.has_major else "non"],
    ], widths=[28, 80])
    rows = []
    for axis in data["axes"]:
        for leaf in axis["leaves"]:
            r = leaf["row"]
            rows.append([axis["node"].id, leaf["node"].id, leaf["node"].title, _label(r.rating if r else None),
                         r.observation if r else "", r.justification if r else ""])
    add_table(wb.create_sheet("Notes"), ["Axe", "Indicateur", "Intitulé", "Note", "Observation", "Justification"],
              rows, widths=[6, 10, 50, 24, 60, 40])
    add_table(wb.create_sheet("Constats et actions"),
              ["Indicateur", "Constat", "Observation", "Action proposée", "Échéance", "État", "En retard"],
              [[f.indicator_id, _label(f.rating), f.observation, a.proposal if a else "",
                a.due_on if a else None, a.state_label if a else "", "oui" if a and action_overdue(a) else "non"]
               for f, a in data["findings"]], widths=[10, 24, 60, 60, 12, 14, 10])
    figs = []
    for axis in data["axes"]:
        for leaf in axis["leaves"]:
            for fig in leaf["figures"]:
                figs.append([leaf["node"].id, fig.label, fig.text])
            for alert in leaf["alerts"]:
                figs.append([leaf["node"].id, "Alerte", alert.message_fr])
    add_table(wb.create_sheet("Chiffres liés"), ["Indicateur", "Chiffre", "Valeur"], figs, widths=[10, 50, 60])
    return xlsx_response(workbook_bytes(wb), f"rapport-audit-{audit.id}-{audit.year}.xlsx")


def _final_audits_query(user):
    q = visible_audits_query(user).where(Audit.state.in_(FINAL_STATES))
    return q


@bp.route("/carte-thermique")
@allow(ADMIN, ACHETEUR)
def heatmap():
    years = sorted({y for (y,) in db.session.execute(select(Audit.year).where(Audit.state.in_(FINAL_STATES)))},
                   reverse=True)
    year = request.args.get("annee", type=int) or (years[0] if years else None)
    audits = list(db.session.scalars(_final_audits_query(current_user).where(Audit.year == year)
                                     .join(Organisation, Organisation.id == Audit.operator_id)
                                     .options(selectinload(Audit.contract), selectinload(Audit.operator))
                                     .order_by(Organisation.name, Audit.id))) if year else []
    columns: list[tuple[str, str]] = []
    seen = set()
    for version in reversed(all_versions()):
        for leaf in referential_of(version).leaves():
            if leaf.id not in seen:
                seen.add(leaf.id)
                columns.append((leaf.id, leaf.title))
    ratings = {}
    if audits:
        # plain tuples: a national map is hundreds of cells, no need for ORM objects
        for audit_id, indicator_id, rating in db.session.execute(
                select(AuditRating.audit_id, AuditRating.indicator_id, AuditRating.rating)
                .where(AuditRating.audit_id.in_([a.id for a in audits]))):
            ratings[(audit_id, indicator_id)] = rating
    return render_template("audit/quality/heatmap.html", years=years, year=year, audits=audits, columns=columns,
                           ratings=ratings, short=SHORT, rating_labels=RATING_LABELS)


@bp.route("/tendances")
@allow(ADMIN, ACHETEUR, OBSERVATEUR)
def trends():
    audits = list(db.session.scalars(_final_audits_query(current_user).order_by(Audit.year)))
    by_year: dict[int, list[Audit]] = {}
    for a in audits:
        by_year.setdefault(a.year, []).append(a)
    table = []
    for year, items in sorted(by_year.items()):
        scores = [a.score for a in items if a.score is not None]
        table.append({"year": year, "count": len(items), "mean": sum(scores) / len(scores) if scores else None,
                      "majors": sum(1 for a in items if a.has_major)})
    chart = None
    if line_chart is not None and table:
        chart = line_chart([str(t["year"]) for t in table],
                           {"Score moyen (%)": [None if t["mean"] is None else round(t["mean"] * 100, 1) for t in table],
                            "Audits avec NC majeure (%)": [round(100 * t["majors"] / t["count"], 1) for t in table]},
                           "Évolution des audits qualité validés")
    return render_template("audit/quality/trends.html", table=table, chart=chart)


@bp.route("/operateurs/<int:organisation_id>")
@allow(ADMIN, ACHETEUR, OPERATEUR, OBSERVATEUR, AUDITEUR)
def history(organisation_id: int):
    org = db.session.get(Organisation, organisation_id)
    if org is None:
        abort(404)
    audits = list(db.session.scalars(visible_audits_query(current_user).where(Audit.operator_id == org.id)
                                      .join(Contract, Contract.id == Audit.contract_id)
                                      .order_by(Audit.year, Contract.reference)))
    if not audits and not is_officer(current_user):
        abort(404)
    rows = []
    for a in audits:
        show = a.state in FINAL_STATES
        rows.append({"audit": a, "score": a.score if show else None, "show": show,
                     "majors": sum(1 for f in findings_of(a) if f.rating == "NC_MAJEURE") if show else None,
                     "minors": sum(1 for f in findings_of(a) if f.rating == "NC_MINEURE") if show else None})
    chart = None
    scored = [r for r in rows if r["score"] is not None]
    if line_chart is not None and scored:
        chart = line_chart([f"{r['audit'].year} ({r['audit'].contract.reference})" for r in scored],
                           {"Score (%)": [round(r["score"] * 100, 1) for r in scored]},
                           f"Scores d'audit — {org.name}")
    return render_template("audit/quality/history.html", org=org, rows=rows, chart=chart)
