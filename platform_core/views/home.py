"""The dashboard: per role, what needs the user's attention."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from ..roles import ANY_USER, allow, public
from ..ui import dashboard_for

bp = Blueprint("home", __name__)


@bp.route("/")
@public
def index():
    if current_user.is_authenticated:
        return redirect(url_for("home.dashboard"))
    return render_template("home/welcome.html")


@bp.route("/tableau-de-bord")
@allow(ANY_USER)
def dashboard():
    return render_template("home/dashboard.html", items=dashboard_for(current_user))


@bp.route("/sante")
@public
def health():
    """Liveness probe for the load balancer; says nothing about the data."""
    return {"statut": "ok"}
