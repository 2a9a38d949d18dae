"""Tenders domain: the national call, lots, sealed bids, evaluation, awards, contracts."""
from importlib.util import find_spec

from flask import Flask

from . import models  # noqa: F401  (tables known to Alembic)
from .views import bp


def init_app(app: Flask) -> None:
    from . import dashboard, demo  # noqa: F401  (demo registers its step on import)

    dashboard.init()
    app.register_blueprint(bp)
    if find_spec("tenders.cli") is not None:
        from . import cli

        cli.init_app(app)
