"""Sign-in, lock-out, password change and user administration, through HTTP."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from platform_core.extensions import db
from platform_core.models import JournalEntry, Organisation, User
from tests.conftest import TEST_PASSWORD, login, page


def _user(key):
    return db.session.scalar(select(User).where(User.email == f"{key}@test.example.fr"))


def test_login_and_dashboard(client, accounts):
    login(client, "acheteur")
    text = page(client.get("/tableau-de-bord"))
    assert "Tableau de bord" in text and "Acheteur" in text


def test_wrong_password_and_unknown_user_get_the_same_answer(client, accounts):
    wrong = client.post("/connexion", data={"email": "acheteur@test.example.fr", "password": "x"})
    unknown = client.post("/connexion", data={"email": "personne@test.example.fr", "password": "x"})
    assert wrong.status_code == unknown.status_code == 200
    for r in (wrong, unknown):
        assert "Adresse électronique ou mot de passe incorrect." in page(r)
    assert client.get("/tableau-de-bord").status_code == 302  # still anonymous


def test_lock_out_after_repeated_failures_is_journaled(client, accounts):
    for _ in range(5):
        client.post("/connexion", data={"email": "auditeur@test.example.fr", "password": "mauvais"})
    user = _user("auditeur")
    assert user.locked_until is not None
    # the right password is refused while locked, with the same message
    r = client.post("/connexion", data={"email": "auditeur@test.example.fr", "password": TEST_PASSWORD})
    assert r.status_code == 200 and "mot de passe incorrect" in page(r)
    actions = db.session.scalars(select(JournalEntry.action).where(JournalEntry.object_id == str(user.id))).all()
    assert actions.count("connexion_echouee") == 5 and "compte_verrouille" in actions


def test_missing_csrf_token_is_refused_and_changes_nothing(client, accounts):
    r = client.post("/connexion", data={"email": "acheteur@test.example.fr", "password": TEST_PASSWORD},
                    csrf=False)
    assert r.status_code == 400
    assert "jeton de sécurité" in page(r)
    assert _user("acheteur").last_login_at is None


def test_forced_password_change(client, accounts):
    user = _user("evaluateur")
    user.must_change_password = True
    db.session.commit()
    login(client, "evaluateur")
    r = client.get("/tableau-de-bord")
    assert r.status_code == 302 and "/mot-de-passe" in r.headers["Location"]
    bad = client.post("/mot-de-passe", data={"current": TEST_PASSWORD, "new": "court", "confirm": "court"})
    assert "au moins 12 caractères" in page(bad)
    ok = client.post("/mot-de-passe", data={"current": TEST_PASSWORD, "new": "Nouveau-Secret-2025",
                                            "confirm": "Nouveau-Secret-2025"})
    assert ok.status_code == 302
    db.session.expire_all()
    assert not _user("evaluateur").must_change_password
    assert client.get("/tableau-de-bord").status_code == 200


def test_admin_creates_user_with_temporary_password(client_for, accounts):
    admin = client_for("admin")
    org_id = accounts["_orgs"]["op_a"]
    r = admin.post("/admin/utilisateurs/nouveau", data={
        "email": "Nouvelle.Personne@Test.example.fr", "full_name": "Nouvelle Personne",
        "roles": ["operateur"], "organisation_id": str(org_id), "region_code": "", "active": "y"})
    assert r.status_code == 200
    password = re.search(r'data-testid="mot-de-passe">([^<]+)<', page(r)).group(1)
    user = db.session.scalar(select(User).where(User.email == "nouvelle.personne@test.example.fr"))
    assert user.must_change_password and user.role_set == {"operateur"} and user.organisation_id == org_id
    assert db.session.scalar(select(func.count()).select_from(JournalEntry).where(
        JournalEntry.action == "utilisateur_cree", JournalEntry.object_id == str(user.id))) == 1
    # the new person signs in with it and is sent to change it
    from flask.testing import FlaskClient  # noqa: F401
    fresh = admin.application.test_client()
    r = fresh.post("/connexion", data={"email": "nouvelle.personne@test.example.fr", "password": password})
    assert r.status_code == 302
    assert "/mot-de-passe" in fresh.get("/tableau-de-bord").headers["Location"]


def test_duplicate_email_and_operator_without_organisation_are_refused(client_for, accounts):
    admin = client_for("admin")
    count = db.session.scalar(select(func.count()).select_from(User))
    r = admin.post("/admin/utilisateurs/nouveau", data={
        "email": "ACHETEUR@test.example.fr", "full_name": "Doublon", "roles": ["acheteur"]})
    assert "Un compte existe déjà" in page(r)
    r = admin.post("/admin/utilisateurs/nouveau", data={
        "email": "sans.orga@test.example.fr", "full_name": "Sans orga", "roles": ["operateur"]})
    assert "doit être rattaché à une organisation" in page(r)
    r = admin.post("/admin/utilisateurs/nouveau", data={
        "email": "long@test.example.fr", "full_name": "x" * 121, "roles": ["acheteur"]})
    assert "120 caractères au maximum" in page(r)
    assert db.session.scalar(select(func.count()).select_from(User)) == count


def test_admin_gives_and_removes_roles_journaled(client_for, accounts):
    admin = client_for("admin")
    uid = accounts["auditeur"]
    user = db.session.get(User, uid)
    r = admin.post(f"/admin/utilisateurs/{uid}", data={
        "email": user.email, "full_name": user.full_name, "roles": ["auditeur", "observateur"],
        "organisation_id": "", "region_code": "", "active": "y", "version": str(user.version)})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, uid).role_set == {"auditeur", "observateur"}
    entry = db.session.scalars(select(JournalEntry).where(JournalEntry.action == "utilisateur_modifie")).one()
    assert entry.before["roles"] == ["auditeur"] and entry.after["roles"] == ["auditeur", "observateur"]


def test_stale_user_edit_is_refused(client_for, accounts):
    admin = client_for("admin")
    uid = accounts["auditeur"]
    user = db.session.get(User, uid)
    old_version = user.version
    user.full_name = "Changé ailleurs"
    db.session.commit()
    r = admin.post(f"/admin/utilisateurs/{uid}", data={
        "email": user.email, "full_name": "Mon changement", "roles": ["auditeur"],
        "version": str(old_version), "active": "y", "organisation_id": "", "region_code": ""},
        follow_redirects=True)
    assert "modifié par quelqu'un d'autre" in page(r), re.findall(r"fr-error-text[^>]*>([^<]+)", page(r))
    db.session.expire_all()
    assert db.session.get(User, uid).full_name == "Changé ailleurs"


def test_organisation_siret_is_checked(client_for, accounts):
    admin = client_for("admin")
    before = db.session.scalar(select(func.count()).select_from(Organisation))
    r = admin.post("/admin/organisations/nouvelle", data={"siret": "12345678901234", "name": "X", "kind": "OPERATEUR"})
    assert "clé de contrôle" in page(r)
    r = admin.post("/admin/organisations/nouvelle", data={"siret": "123", "name": "X", "kind": "OPERATEUR"})
    assert "14 chiffres" in page(r)
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == before
    r = admin.post("/admin/organisations/nouvelle", data={"siret": "732 829 320 00074", "name": "Nouvel opérateur",
                                                           "kind": "OPERATEUR", "region_code": "84"})
    assert r.status_code == 302
    assert db.session.scalar(select(Organisation).where(Organisation.siret == "73282932000074")).region_code == "84"


def test_error_pages_are_french(client_for, accounts):
    c = client_for("operateur")
    r = c.get("/admin/utilisateurs")
    assert r.status_code == 403 and "Accès refusé" in page(r)
    r = c.get("/nexiste-pas")
    assert r.status_code == 404 and "Page introuvable" in page(r)


def test_open_redirect_is_refused(client, accounts):
    r = client.post("/connexion?next=//evil.example.com/x",
                    data={"email": "acheteur@test.example.fr", "password": TEST_PASSWORD})
    assert r.headers["Location"].endswith("/tableau-de-bord")


def test_login_attempts_are_rate_limited_per_address(app, client, accounts):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    codes = [client.post("/connexion", data={"email": "x@test.example.fr", "password": "y"}).status_code
             for _ in range(4)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    assert "Trop de tentatives" in page(client.post("/connexion", data={"email": "x@test.example.fr",
                                                                         "password": "y"}))


def test_session_cookie_expires(client, accounts):
    response = login(client, "acheteur")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Expires=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_security_headers(client):
    r = client.get("/connexion")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_uploads_are_rate_limited_per_account(app, client_for):
    app.config["UPLOAD_RATE_LIMIT"] = "2 per minute"
    operator = client_for("operateur")
    codes = [operator.post("/suivi/bilans/depot", data={}).status_code for _ in range(3)]
    assert codes[2] == 429 and 429 not in codes[:2]
    # the bound is per account: another operator is not affected
    assert client_for("operateur_b").post("/suivi/bilans/depot", data={}).status_code != 429
