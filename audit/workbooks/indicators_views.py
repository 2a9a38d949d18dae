"""Indicator pages (contract, region, nation), their xlsx export, the rows behind an
alert and the alert threshold settings."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select
from wtforms import HiddenField, StringField

from platform_core import journal
from platform_core.charts import bar_chart, line_chart
from platform_core.clock import today_paris
from platform_core.exports import add_table, new_workbook, workbook_bytes, xlsx_response
from platform_core.extensions import db
from platform_core.formatting import fr_number, fr_percent
from platform_core.forms import FrenchForm
from platform_core.roles import allow
from quality_framework import reference
from quality_framework.alerts import ALERT_RULES, DEFAULT_THRESHOLDS, alert_rows_select, validate_thresholds
from quality_framework.indicators import distribution_shares
from tenders.models import Contract

from . import access
from .access import EVERYONE, OFFICERS, READERS
from .figures import DIMENSION_LABELS, LABELS, format_value, scope_figures, thresholds_for, version_figures
from .indicators_cache import cache, page_key
from .models import AlertThresholds, beneficiary_rows
from .views import bp

PAGE_SIZE = 50


def _year_arg() -> int | None:
    value = request.args.get("annee", "")
    return int(value) if value.isdigit() else None


def _charts(fig) -> dict:
    """Charts of the selected year and the trends, each with its data for a table."""
    if fig.indicators is None:
        return {}
    rep = fig.indicators["repartition"]
    entrees, sorties = fig.indicators["entrees"], fig.indicators["sorties"]
    distributions = []
    for dim, label in DIMENSION_LABELS.items():
        counts = rep.get(dim, {})
        total = sorties if dim == "type_sortie" else entrees
        shares = distribution_shares(counts, total)
        items = sorted(counts.items(), key=lambda kv: -kv[1]) if dim == "departement" else list(counts.items())
        rows = [(code, n, shares[code]) for code, n in items]
        chart = bar_chart([(code, n) for code, n, _ in rows], f"{label} — {fig.year}",
                          value_format=lambda v: fr_number(v)) if rows else None
        distributions.append({"dim": dim, "label": label, "rows": rows, "chart": chart, "total": total})
    years = [str(y) for y in fig.years]
    # two charts of at most three series: the legend of line_chart holds four per row
    def series(names):  # short legends: line_chart cuts them at 26 characters
        return {label: [fig.by_year[y][n] for y in fig.years] for n, label in names}

    trend_high = series([("taux_abandon", "Abandon"), ("taux_information_seule", "Information seule"),
                         ("taux_parcours_courts", "Parcours courts")])
    trend_low = series([("taux_satisfaits", "Satisfaits"), ("taux_document_synthese", "Document de synthèse"),
                        ("taux_realisation", "Réalisation")])
    trend_entrees = {"Entrées": [fig.by_year[y]["entrees"] for y in fig.years],
                     "Sorties": [fig.by_year[y]["sorties"] for y in fig.years]}
    return {
        "distributions": distributions,
        "trend_high_chart": line_chart(years, trend_high, "Taux surveillés à la hausse",
                                       value_format=fr_percent),
        "trend_low_chart": line_chart(years, trend_low, "Taux surveillés à la baisse",
                                      value_format=fr_percent),
        "trend_counts_chart": line_chart(years, trend_entrees, "Évolution des entrées et sorties",
                                         value_format=lambda v: fr_number(v)),
    }


def _render(title: str, scope: str, fig, breakdown=None, contract=None, **extra):
    if request.args.get("format") == "xlsx":
        return _export(title, fig, breakdown)
    return _page(title, _body(title, scope, fig, breakdown, contract, **extra))


def _body(title: str, scope: str, fig, breakdown=None, contract=None, **extra) -> str:
    return render_template("audit/workbooks/_indicators_body.html", title=title, scope=scope, fig=fig,
                           charts=_charts(fig), labels=LABELS, breakdown=breakdown or [],
                           format_value=format_value, contract=contract,
                           rules=ALERT_RULES, **extra)


def _page(title: str, body: str):
    return render_template("audit/workbooks/indicators.html", title=title, body=Markup(body))


def _render_cached(title: str, scope: str, contracts: list[Contract], compute):
    """A national or regional page: its body from the cache when none of its inputs has
    changed (indicators_cache.py). `compute()` gives (fig, breakdown) on a miss and for
    the xlsx export, which is always computed."""
    if request.args.get("format") == "xlsx":
        return _export(title, *compute())
    key = page_key(scope, title, contracts, _year_arg())
    store = cache()
    body = store.get(key)
    if body is None:
        body = _body(title, scope, *compute())
        store.put(key, body)
    return _page(title, body)


def _breakdown(groups: list[tuple[str, str | None, list]], year) -> list[dict]:
    """Rows of the comparison table: (label, url, versions of the selected year)."""
    from .figures import indicators_of

    rows = []
    for label, url, versions in groups:
        rows.append({"label": label, "url": url,
                     "indicators": indicators_of(versions) if versions else None})
    return rows


@bp.route("/indicateurs/")
@allow(*READERS)
def national_indicators():
    if not access.sees_all(current_user):
        return redirect(url_for(".region_indicators", code=current_user.region_code or "inconnue"))
    contracts = access.visible_contracts(current_user)

    def compute():
        fig = scope_figures(contracts, _year_arg())
        groups = []
        for code, region in reference.regions().items():
            versions = [v for v in fig.versions if v.contract.region_code == code]
            groups.append((f"{code} {region.name}", url_for(".region_indicators", code=code, annee=fig.year),
                           versions))
        return fig, _breakdown(groups, fig.year)

    return _render_cached("Indicateurs nationaux", "national", contracts, compute)


@bp.route("/indicateurs/regions/<code>")
@allow(*READERS)
def region_indicators(code: str):
    region = reference.regions().get(code)
    if region is None or not access.region_visible(current_user, code):
        abort(404)
    contracts = [c for c in access.visible_contracts(current_user) if c.region_code == code]

    def compute():
        fig = scope_figures(contracts, _year_arg())
        groups = [(c.reference, url_for(".contract_indicators", contract_id=c.id, annee=fig.year),
                   [v for v in fig.versions if v.contract_id == c.id]) for c in contracts]
        return fig, _breakdown(groups, fig.year)

    return _render_cached(f"Indicateurs de la région {region.name}", "region", contracts, compute)


@bp.route("/indicateurs/marches/<int:contract_id>")
@allow(*EVERYONE)
def contract_indicators(contract_id: int):
    contract = access.contract_or_404(current_user, contract_id)
    wanted = request.args.get("version", "")
    if wanted.isdigit():  # an earlier version, read for the record
        version = access.version_or_404(current_user, int(wanted))
        if version.contract_id != contract.id:
            abort(404)
        fig = version_figures(version)
    else:
        fig = scope_figures([contract], _year_arg())
        version = fig.versions[0] if fig.versions else None
    return _render(f"Indicateurs du marché {contract.reference}", "contract", fig, contract=contract,
                   version=version)


def _export(title: str, fig, breakdown) -> object:
    wb = new_workbook()
    ws = wb.create_sheet("Indicateurs")
    add_table(ws, ["Indicateur", "Code"] + [str(y) for y in fig.years],
              [[LABELS[n][0], n] + [fig.by_year[y][n] for y in fig.years] for n in LABELS],
              widths=[50, 28] + [14] * len(fig.years))
    ws = wb.create_sheet("Répartitions")
    rows = []
    for y in fig.years:
        ind = fig.by_year[y]
        for dim, counts in ind["repartition"].items():
            total = ind["sorties"] if dim == "type_sortie" else ind["entrees"]
            for code, share in distribution_shares(counts, total).items():
                rows.append([y, DIMENSION_LABELS.get(dim, dim), code, counts[code], share])
    add_table(ws, ["Année", "Répartition", "Code", "Effectif", "Part"], rows, widths=[8, 36, 14, 12, 10])
    ws = wb.create_sheet("Alertes")
    add_table(ws, ["Année", "Marché", "Indicateur", "Valeur", "Seuil", "Message"],
              [[fig.year, v.contract.reference, a.indicator, a.value, a.threshold, a.message_fr]
               for v, a in fig.alerts], widths=[8, 20, 28, 10, 10, 80])
    if breakdown:
        ws = wb.create_sheet("Comparaison")
        add_table(ws, ["Périmètre", "Entrées", "Sorties", "Taux d'abandon", "Information seule",
                       "Parcours courts", "Taux de réalisation"],
                  [[b["label"]] + ([b["indicators"][n] for n in ("entrees", "sorties", "taux_abandon",
                                                                 "taux_information_seule", "taux_parcours_courts",
                                                                 "taux_realisation")]
                                   if b["indicators"] else [None] * 6) for b in breakdown])
    slug = "".join(ch if ch.isalnum() else "-" for ch in title.lower())
    return xlsx_response(workbook_bytes(wb), f"{slug}.xlsx")


# --------------------------------------------------------------------------- alert rows

@bp.route("/alertes/<int:version_id>/<indicator>")
@allow(*EVERYONE)
def alert_rows(version_id: int, indicator: str):
    version = access.version_or_404(current_user, version_id)
    if indicator not in ALERT_RULES:
        abort(404)
    stmt = alert_rows_select(beneficiary_rows, version.id, version.year, indicator)
    # Count without the ORDER BY: sorting every row behind the alert only to count them
    # cost as much as the page itself on a large version.
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    page_no = request.args.get("page", "1")
    page_no = min(max(int(page_no), 1), pages) if page_no.isdigit() else 1
    result = db.session.execute(stmt.limit(PAGE_SIZE).offset((page_no - 1) * PAGE_SIZE))
    return render_template("audit/workbooks/alert_rows.html", version=version, indicator=indicator,
                           rule=ALERT_RULES[indicator], columns=list(result.keys()), rows=result.all(),
                           total=total, page_no=page_no, pages=pages,
                           threshold=thresholds_for(version.year).get(indicator))


# --------------------------------------------------------------------------- thresholds

class ThresholdsForm(FrenchForm):
    version = HiddenField()


for _name in ALERT_RULES:
    setattr(ThresholdsForm, _name, StringField(ALERT_RULES[_name]["label_fr"]))


def _parse(text: str):
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return text


@bp.route("/seuils", methods=["GET", "POST"])
@allow(*OFFICERS)
def thresholds():
    year = _year_arg() or today_paris().year - 1
    row = db.session.scalar(select(AlertThresholds).where(AlertThresholds.year == year))
    current = thresholds_for(year)
    form = ThresholdsForm()
    errors: list[str] = []
    if request.method == "GET":
        for name, value in current.items():
            getattr(form, name).data = f"{value:.2f}".replace(".", ",")
        form.version.data = str(row.version) if row else "0"
    elif form.validate_on_submit():
        values = {name: _parse(getattr(form, name).data or "") for name in ALERT_RULES}
        errors = validate_thresholds(values)
        expected = str(row.version) if row else "0"
        if not errors and (form.version.data or "") != expected:
            errors = ["Les seuils ont été modifiés par quelqu'un d'autre pendant votre saisie : "
                      "rechargez la page et recommencez. Rien n'a été enregistré."]
        if not errors:
            before = dict(current)
            if row is None:
                row = AlertThresholds(year=year, thresholds=values, updated_by_id=current_user.id)
                db.session.add(row)
            else:
                row.thresholds, row.updated_by_id = values, current_user.id
            db.session.flush()
            journal.record("seuils_alerte_modifies", "seuils_alerte", year,
                           f"Seuils d'alerte de la campagne {year}", before=before, after=values)
            db.session.commit()
            flash(f"Seuils d'alerte {year} enregistrés.", "success")
            return redirect(url_for(".thresholds", annee=year))
    else:
        errors = ["Formulaire incomplet ou expiré : rechargez la page. Rien n'a été enregistré."]
    return render_template("audit/workbooks/thresholds.html", form=form, year=year, errors=errors,
                           rules=ALERT_RULES, defaults=DEFAULT_THRESHOLDS, row=row,
                           names=list(ALERT_RULES)), (400 if errors else 200)
