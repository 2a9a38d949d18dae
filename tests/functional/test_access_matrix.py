"""Every registered route × every role. The rule is read from the view's own
declaration (@allow/@public); routes are taken from app.url_map, so a new route is
covered without editing this test, and a route without a declaration fails it."""
from __future__ import annotations

import html

import pytest

from platform_core.roles import ANY_USER, PUBLIC, ROLES
from tests.conftest import FormClient, login

SKIP_POST = {"accounts.logout"}  # would sign the client out mid-walk


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        args = {}
        for name, conv in rule._converters.items():
            kind = type(conv).__name__
            args[name] = 999999 if kind in ("IntegerConverter", "FloatConverter") else "inexistant"
        with app.test_request_context():
            from flask import url_for
            url = url_for(rule.endpoint, **args)
        method = "GET" if "GET" in rule.methods else "POST"
        yield rule.endpoint, url, method


def test_every_route_declares_an_access_rule(app):
    missing = [ep for ep, _, _ in _routes(app)
               if getattr(app.view_functions[ep], "access_rule", None) is None]
    assert not missing, f"routes without @allow/@public: {missing}"


def test_role_matrix(app, accounts):
    app.test_client_class = FormClient
    clients = {}
    for role in ROLES:
        clients[role] = app.test_client()
        login(clients[role], role)
    anonymous = app.test_client()
    problems = []
    routes = list(_routes(app))
    assert len(routes) > 10
    for endpoint, url, method in routes:
        rule = app.view_functions[endpoint].access_rule
        for role, c in [*clients.items(), (None, anonymous)]:
            if method == "POST" and endpoint in SKIP_POST:
                continue
            response = c.open(url, method=method, data={} if method == "POST" else None)
            code = response.status_code
            if PUBLIC in rule:
                allowed = True
            elif role is None:
                allowed = False
            else:
                allowed = ANY_USER in rule or role in rule
            if role is None and not allowed:
                ok = code == 302 and "/connexion" in response.headers.get("Location", "")
            elif allowed:
                ok = code not in (401, 403) and code < 500
            else:
                ok = code == 403
            if not ok:
                problems.append(f"{method} {url} [{endpoint}] as {role or 'anonyme'}: {code}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", list(ROLES))
def test_dashboard_reachable_for_each_role(client_for, role):
    page = client_for(role).get("/tableau-de-bord")
    assert page.status_code == 200
    assert ROLES[role] in html.unescape(page.get_data(as_text=True))
