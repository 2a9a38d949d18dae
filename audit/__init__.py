"""Audit domain: activity workbooks and indicators, fund-use reports, quality
audits. One parent blueprint `audit`, one child blueprint per sub-domain
(endpoints `audit.workbooks.*`, `audit.fund_use.*`, `audit.quality.*`)."""
from flask import Blueprint, Flask

from .fund_use import models as _fund_use_models  # noqa: F401  (tables known to Alembic)
from .fund_use.views import bp as fund_use_bp
from .quality import models as _quality_models  # noqa: F401
from .quality.views import bp as quality_bp
from .workbooks import models as _workbook_models  # noqa: F401
from .workbooks.views import bp as workbooks_bp

bp = Blueprint("audit", __name__, url_prefix="/suivi")
for child in (workbooks_bp, fund_use_bp, quality_bp):
    bp.register_blueprint(child)


def init_app(app: Flask) -> None:
    """Register the blueprint; sub-domains add their CLI commands here."""
    app.register_blueprint(bp)
    for sub in ("workbooks", "fund_use", "quality"):
        module = __import__(f"audit.{sub}.cli", fromlist=["init_app"]) if _has_cli(sub) else None
        if module:
            module.init_app(app)


def _has_cli(sub: str) -> bool:
    from importlib.util import find_spec

    return find_spec(f"audit.{sub}.cli") is not None
