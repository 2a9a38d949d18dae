"""Pages of this sub-domain."""
from flask import Blueprint, render_template

from platform_core.roles import ACHETEUR, ADMIN, AUDITEUR, OBSERVATEUR, OPERATEUR, allow
from platform_core.ui import register_nav

bp = Blueprint("fund_use", __name__, url_prefix="/usage-des-fonds")
register_nav("Usage des fonds", "audit.fund_use.index", {ADMIN, ACHETEUR, OPERATEUR, OBSERVATEUR}, order=30)


@bp.route("/")
@allow(ADMIN, ACHETEUR, OPERATEUR, OBSERVATEUR)
def index():
    return render_template("audit/fund_use/index.html")
