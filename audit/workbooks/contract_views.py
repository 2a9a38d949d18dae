"""The published interface contract of the annual workbook, rendered from the same
declaration (quality_framework/workbook/contract.yaml) that drives the validator, the
blank template and the error messages: the page cannot drift from the checks."""
from __future__ import annotations

from flask import render_template, request

from platform_core.clock import today_paris
from platform_core.roles import ANY_USER, allow
from quality_framework.workbook import load_contract

from .views import bp


@bp.route("/contrat")
@allow(ANY_USER)
def contract_doc():
    try:
        year = int(request.args.get("annee", today_paris().year - 1))
    except ValueError:
        year = today_paris().year - 1
    year = min(max(year, 2000), 2100)
    return render_template("audit/workbooks/contract_doc.html", contract=load_contract(), year=year)
