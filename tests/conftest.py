"""Shared fixtures: an application on a fresh database (SQLite by default,
PostgreSQL with CEP_TEST_DB=postgres), one account per role, and test clients
that fill in the CSRF token the way a browser form would."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from platform_core import create_app
from platform_core.extensions import db

IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_PASSWORD = "Test-Password-2024!"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
USE_PG = os.environ.get("CEP_TEST_DB") == "postgres"


def skip_or_fail(reason: str):
    """Locally a missing server skips with a clear message; in CI it is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (obligatoire en CI)")
    pytest.skip(reason)


# ---------------------------------------------------------------- database --

@pytest.fixture(scope="session")
def pg_url() -> str:
    if not PG_URL:
        skip_or_fail("PostgreSQL absent : définissez TEST_DATABASE_URL ou lancez `make test`, "
                     "qui démarre un serveur local si le paquet postgresql est installé")
    return PG_URL


def _schema_app(url: str, tmp: Path):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": str(tmp),
                       "UPLOAD_DIR": str(tmp / "files"), "SCHEDULER_ENABLED": False})


@pytest.fixture(scope="session")
def _database_template(tmp_path_factory):
    """Create the schema once per session; each test then starts from it empty."""
    tmp = tmp_path_factory.mktemp("schema")
    if USE_PG:
        if not PG_URL:
            skip_or_fail("CEP_TEST_DB=postgres mais TEST_DATABASE_URL n'est pas défini")
        app = _schema_app(PG_URL, tmp)
        with app.app_context():
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.create_all()
            tables = [t.name for t in db.metadata.sorted_tables]
            db.engine.dispose()
        return {"kind": "postgres", "url": PG_URL, "tables": tables}
    path = tmp / "template.sqlite3"
    app = _schema_app(f"sqlite:///{path}", tmp)
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return {"kind": "sqlite", "path": path}


def _fresh_database(template, tmp_path: Path) -> str:
    if template["kind"] == "sqlite":
        target = tmp_path / "test.sqlite3"
        shutil.copy(template["path"], target)
        return f"sqlite:///{target}"
    engine = create_engine(template["url"])
    with engine.begin() as conn:
        names = ", ".join(f'"{t}"' for t in template["tables"])
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return template["url"]


@pytest.fixture
def app(_database_template, tmp_path):
    url = _fresh_database(_database_template, tmp_path)
    application = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "UPLOAD_DIR": str(tmp_path / "files"),
        "SCHEDULER_ENABLED": False,
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_RATE_LIMIT": "10000 per minute",
        "UPLOAD_RATE_LIMIT": "10000 per minute",
    })
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


# ---------------------------------------------------------------- clients --

class FormClient(FlaskClient):
    """Adds the CSRF token to every POST, as the rendered form would, unless
    `csrf=False` is passed (to test the refusal)."""

    _token: str | None = None

    def csrf_token(self) -> str:
        if self._token is None:
            with self.application.app_context():
                page = super().open("/connexion", method="GET").get_data(as_text=True)
            match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
            assert match, "CSRF token not found on the login page"
            self._token = match.group(1)
        return self._token

    def open(self, *args, csrf: bool = True, **kwargs):
        method = kwargs.get("method", "GET").upper()
        if csrf and method == "POST":
            data = kwargs.get("data")
            if data is None:
                data = kwargs["data"] = {}
            if isinstance(data, dict) and "csrf_token" not in data:
                data["csrf_token"] = self.csrf_token()
        # A fresh app context per request, as in production: otherwise `g` (where
        # Flask-Login caches the user) and the DB session leak between clients.
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = FormClient
    return app.test_client()


# ---------------------------------------------------------------- accounts --

@pytest.fixture(scope="session")
def password_hash() -> str:
    # argon2 is slow on purpose; test accounts use light parameters (a verify reads
    # them from the hash itself), the application's own hasher is unchanged.
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(TEST_PASSWORD)


ROLE_ACCOUNTS = {
    # key: (roles, organisation key, region)
    "admin": (["admin"], "fc", None),
    "acheteur": (["acheteur"], "fc", None),
    "evaluateur": (["evaluateur"], "fc", None),
    "auditeur": (["auditeur"], "fc", None),
    "operateur": (["operateur"], "op_a", None),
    "observateur": (["observateur"], None, None),
    # the same role from elsewhere: for object-level checks
    "operateur_b": (["operateur"], "op_b", None),
    "observateur_bretagne": (["observateur"], None, "53"),
}

ORGANISATIONS = {
    "fc": ("99900000000011", "France compétences (test)", "FRANCE_COMPETENCES", None),
    "op_a": ("99900000001001", "Opérateur A (test)", "OPERATEUR", "53"),
    "op_b": ("99900000001019", "Opérateur B (test)", "OPERATEUR", "52"),
}


@pytest.fixture
def accounts(app, password_hash):
    """Organisations and one account per role; returns {key: user_id} plus orgs."""
    from platform_core.models import Organisation, User, UserRole

    orgs = {}
    for key, (siret, name, kind, region) in ORGANISATIONS.items():
        orgs[key] = Organisation(siret=siret, name=name, kind=kind, region_code=region)
        db.session.add(orgs[key])
    users = {}
    for key, (roles, org_key, region) in ROLE_ACCOUNTS.items():
        users[key] = User(email=f"{key}@test.example.fr", full_name=f"Test {key}",
                          password_hash=password_hash, must_change_password=False,
                          organisation=orgs.get(org_key), region_code=region,
                          roles=[UserRole(role=r) for r in roles])
        db.session.add(users[key])
    db.session.commit()
    result = {key: u.id for key, u in users.items()}
    result["_orgs"] = {key: o.id for key, o in orgs.items()}
    return result


def login(client: FormClient, key: str, password: str = TEST_PASSWORD):
    response = client.post("/connexion", data={"email": f"{key}@test.example.fr", "password": password})
    assert response.status_code == 302, f"login failed for {key}"
    return response


@pytest.fixture
def client_for(app, accounts):
    """client_for('acheteur') -> a client signed in with that account."""
    app.test_client_class = FormClient

    def make(key: str) -> FormClient:
        c = app.test_client()
        login(c, key)
        return c

    return make


def page(response) -> str:
    """The response body as a reader sees it (HTML entities decoded)."""
    import html

    return html.unescape(response.get_data(as_text=True))
