"""Pages of this sub-domain."""
from flask import Blueprint, render_template

from platform_core.roles import ACHETEUR, ADMIN, AUDITEUR, OBSERVATEUR, OPERATEUR, allow
from platform_core.ui import register_nav

bp = Blueprint("workbooks", __name__, url_prefix="/bilans")
register_nav("Bilans d'activité", "audit.workbooks.index", {ADMIN, ACHETEUR, OPERATEUR, OBSERVATEUR, AUDITEUR}, order=20)


@bp.route("/")
@allow(ADMIN, ACHETEUR, OPERATEUR, OBSERVATEUR, AUDITEUR)
def index():
    return render_template("audit/workbooks/index.html")
