"""Application factory and the small shared core (config, database, accounts,
roles, journal, files, dashboard registry) every domain blueprint relies on."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, redirect, request, url_for
from flask_login import current_user

from .config import ROOT, load_config
from .extensions import csrf, db, limiter, login_manager, migrate


def create_app(overrides: dict | None = None) -> Flask:
    config = load_config(overrides)
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
        instance_path=config["INSTANCE_DIR"],
    )
    app.config.update(config)
    Path(app.config["INSTANCE_DIR"]).mkdir(parents=True, exist_ok=True)
    Path(app.config["UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    _init_login(app)

    from . import errors, security
    from .formatting import FILTERS
    from .roles import ROLES, enforce_access

    app.before_request(enforce_access)
    app.before_request(_force_password_change)
    security.init_app(app)
    errors.init_app(app)
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals["ROLE_LABELS"] = ROLES

    from .ui import nav_for

    app.jinja_env.globals["nav_items"] = lambda: nav_for(current_user)

    from .views import accounts, home, journal

    app.register_blueprint(home.bp)
    app.register_blueprint(accounts.bp)
    app.register_blueprint(journal.bp)

    from . import notifications, scheduler

    notifications.init_app(app)  # pages, header counter, e-mail after commit
    scheduler.init_app(app)  # jobs pages; scheduler started by a web process's first request

    import audit
    import tenders

    tenders.init_app(app)
    audit.init_app(app)

    from . import cli

    cli.init_app(app)
    return app


def _init_login(app: Flask) -> None:
    from .models import User

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Connectez-vous pour accéder à cette page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        try:
            return db.session.get(User, int(user_id))
        except (TypeError, ValueError):
            return None


_PASSWORD_FREE_ENDPOINTS = {"accounts.change_password", "accounts.logout", "static"}


def _force_password_change():
    """A temporary password must be replaced before anything else."""
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in _PASSWORD_FREE_ENDPOINTS
    ):
        return redirect(url_for("accounts.change_password"))
    return None
