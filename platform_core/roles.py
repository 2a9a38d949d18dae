"""The six roles of spec/platform.md and the one mechanism that enforces them.

Every view declares who may reach it with `@allow(...)` (or `@public`). A global
before-request hook refuses any endpoint without a declaration (fail closed) and
any user whose roles do not intersect the declared ones."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import abort, current_app, request
from flask_login import current_user

ADMIN = "admin"
ACHETEUR = "acheteur"
EVALUATEUR = "evaluateur"
AUDITEUR = "auditeur"
OPERATEUR = "operateur"
OBSERVATEUR = "observateur"

ROLES: dict[str, str] = {
    ADMIN: "Administrateur (DSI France compétences)",
    ACHETEUR: "Acheteur (chargé de l'appel d'offres)",
    EVALUATEUR: "Évaluateur (commission d'analyse)",
    AUDITEUR: "Auditeur qualité",
    OPERATEUR: "Opérateur régional du CEP",
    OBSERVATEUR: "Observateur (CREFOP, région, ministère)",
}

ANY_USER = "__any_authenticated__"
PUBLIC = "__public__"


def allow(*roles: str) -> Callable:
    """Declare the roles that may reach a view. `allow(ANY_USER)` = any signed-in user."""
    unknown = [r for r in roles if r not in ROLES and r != ANY_USER]
    if unknown or not roles:
        raise ValueError(f"unknown roles in @allow: {unknown or roles}")

    def decorate(view: Callable) -> Callable:
        view.access_rule = frozenset(roles)
        return view

    return decorate


def public(view: Callable) -> Callable:
    view.access_rule = frozenset({PUBLIC})
    return view


def access_rule(endpoint: str | None) -> frozenset[str] | None:
    if endpoint is None:
        return None
    if endpoint == "static" or endpoint.endswith(".static"):
        return frozenset({PUBLIC})  # CSS, JS, fonts: public assets
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access_rule", None)


def rule_admits(rule: frozenset[str], user_roles: set[str], authenticated: bool) -> bool:
    if PUBLIC in rule:
        return True
    if not authenticated:
        return False
    return ANY_USER in rule or bool(rule & user_roles)


def enforce_access():
    """before_request hook: 401→login for anonymous, 403 for a role outside the rule."""
    if request.endpoint is None:  # 404/405 handled by Flask
        return None
    rule = access_rule(request.endpoint)
    if rule is None:
        current_app.logger.error("route sans règle d'accès : %s", request.endpoint)
        abort(403)
    if PUBLIC in rule:
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not rule_admits(rule, current_user.role_set, True):
        abort(403)
    return None


def roles_required(*roles: str) -> Callable:
    """In-view helper for actions narrower than the page (e.g. a button's POST)."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not (current_user.role_set & set(roles)):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate
