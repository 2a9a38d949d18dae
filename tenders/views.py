"""Tender pages."""
from flask import Blueprint, render_template

from platform_core.roles import ACHETEUR, ADMIN, EVALUATEUR, OBSERVATEUR, OPERATEUR, allow
from platform_core.ui import register_nav

bp = Blueprint("tenders", __name__, url_prefix="/appels-offres")
register_nav("Appels d'offres", "tenders.index",
             {ADMIN, ACHETEUR, EVALUATEUR, OPERATEUR, OBSERVATEUR}, order=10)


@bp.route("/")
@allow(ADMIN, ACHETEUR, EVALUATEUR, OPERATEUR, OBSERVATEUR)
def index():
    return render_template("tenders/index.html")
