"""Pages of this sub-domain."""
from flask import Blueprint, render_template

from platform_core.roles import ACHETEUR, ADMIN, AUDITEUR, OBSERVATEUR, OPERATEUR, allow
from platform_core.ui import register_nav

bp = Blueprint("quality", __name__, url_prefix="/audits")
register_nav("Audits qualité", "audit.quality.index", {ADMIN, ACHETEUR, AUDITEUR, OPERATEUR, OBSERVATEUR}, order=40)


@bp.route("/")
@allow(ADMIN, ACHETEUR, AUDITEUR, OPERATEUR, OBSERVATEUR)
def index():
    return render_template("audit/quality/index.html")
