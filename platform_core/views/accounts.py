"""Sign-in, sign-out, password change, and the admin pages for users and
organisations."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from quality_framework.siret import normalise_siret

from .. import journal
from ..clock import now
from ..extensions import db, limiter
from ..models import Organisation, User, UserRole
from ..passwords import hash_password, policy_errors, temporary_password, verify_password
from ..roles import ADMIN, ANY_USER, allow, public
from ..ui import register_nav
from .forms import ChangePasswordForm, LoginForm, OrganisationForm, UserForm

bp = Blueprint("accounts", __name__)

register_nav("Utilisateurs", "accounts.users", {ADMIN}, order=90)
register_nav("Organisations", "accounts.organisations", {ADMIN}, order=91)

LOGIN_FAILED = "Adresse électronique ou mot de passe incorrect."


@bp.route("/connexion", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        at = now()
        ok = verify_password(user.password_hash if user else None, form.password.data)
        if user and user.active and ok and not user.is_locked(at):
            user.failed_logins = 0
            user.locked_until = None
            user.last_login_at = at
            journal.record("connexion", "utilisateur", user.id, "Connexion réussie", actor=user)
            db.session.commit()
            session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME
            login_user(user)
            return redirect(_safe_next() or url_for("home.dashboard"))
        if user and not ok:
            _count_failure(user, at)
        # Same answer whatever happened: no hint that the account exists.
        flash(LOGIN_FAILED, "error")
    return render_template("accounts/login.html", form=form,
                           max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                           lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"])


def _count_failure(user: User, at) -> None:
    user.failed_logins += 1
    journal.record("connexion_echouee", "utilisateur", user.id,
                   f"Échec de connexion n° {user.failed_logins}", actor=user)
    if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
        user.locked_until = at + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
        user.failed_logins = 0
        journal.record("compte_verrouille", "utilisateur", user.id,
                       "Compte verrouillé après des échecs de connexion répétés",
                       after={"verrouille_jusqu_a": user.locked_until.isoformat()}, actor=user)
    db.session.commit()


def _safe_next() -> str | None:
    target = request.args.get("next", "")
    # Only local paths: never redirect to another site.
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.route("/deconnexion", methods=["POST"])
@allow(ANY_USER)
def logout():
    journal.record("deconnexion", "utilisateur", current_user.id, "Déconnexion")
    db.session.commit()
    logout_user()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/mot-de-passe", methods=["GET", "POST"])
@allow(ANY_USER)
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        problems = []
        if not verify_password(current_user.password_hash, form.current.data):
            problems.append("Le mot de passe actuel est incorrect.")
        problems += policy_errors(form.new.data, current_user.email)
        if form.new.data == form.current.data:
            problems.append("Le nouveau mot de passe doit être différent de l'actuel.")
        if problems:
            form.new.errors = list(form.new.errors) + problems
        else:
            current_user.password_hash = hash_password(form.new.data)
            current_user.must_change_password = False
            journal.record("mot_de_passe_change", "utilisateur", current_user.id,
                           "Mot de passe modifié")
            db.session.commit()
            flash("Votre mot de passe a été modifié.", "success")
            return redirect(url_for("home.dashboard"))
    return render_template("accounts/change_password.html", form=form)


# ---- Administration: users ------------------------------------------------

def _user_snapshot(user: User) -> dict:
    return {
        "email": user.email, "nom": user.full_name, "roles": sorted(user.role_set),
        "organisation": user.organisation_id, "region": user.region_code, "actif": user.active,
    }


@bp.route("/admin/utilisateurs")
@allow(ADMIN)
def users():
    rows = db.session.scalars(select(User).order_by(User.full_name)).all()
    return render_template("accounts/users.html", users=rows, now=now())


def _organisations():
    return db.session.scalars(select(Organisation).order_by(Organisation.name)).all()


@bp.route("/admin/utilisateurs/nouveau", methods=["GET", "POST"])
@allow(ADMIN)
def create_user():
    form = UserForm(organisations=_organisations())
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
            form.email.errors = ["Un compte existe déjà avec cette adresse électronique."]
        else:
            password = temporary_password()
            user = User(email=email, full_name=form.full_name.data.strip(),
                        password_hash=hash_password(password), must_change_password=True)
            _apply_user_form(user, form)
            db.session.add(user)
            db.session.flush()
            journal.record("utilisateur_cree", "utilisateur", user.id,
                           f"Création du compte {email}", after=_user_snapshot(user))
            db.session.commit()
            return render_template("accounts/password_issued.html", user=user, password=password)
    return render_template("accounts/user_form.html", form=form, user=None)


def _apply_user_form(user: User, form: UserForm) -> None:
    user.full_name = form.full_name.data.strip()
    user.organisation_id = int(form.organisation_id.data) if form.organisation_id.data else None
    user.region_code = form.region_code.data or None
    user.active = bool(form.active.data)
    wanted = set(form.roles.data or [])
    user.roles = [r for r in user.roles if r.role in wanted] + [
        UserRole(role=r) for r in sorted(wanted - user.role_set)
    ]


@bp.route("/admin/utilisateurs/<int:user_id>", methods=["GET", "POST"])
@allow(ADMIN)
def edit_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserForm(obj=user, organisations=_organisations())
    if request.method == "GET":
        form.roles.data = sorted(user.role_set)
        form.organisation_id.data = str(user.organisation_id or "")
        form.region_code.data = user.region_code or ""
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        clash = db.session.scalar(select(User.id).where(func.lower(User.email) == email, User.id != user.id))
        if clash:
            form.email.errors = ["Un compte existe déjà avec cette adresse électronique."]
        elif user.id == current_user.id and ADMIN not in (form.roles.data or []):
            form.roles.errors = ["Vous ne pouvez pas retirer votre propre rôle d'administrateur."]
        else:
            before = _user_snapshot(user)
            if int(request.form.get("version", user.version)) != user.version:
                flash("Ce compte a été modifié par quelqu'un d'autre entre-temps : "
                      "vérifiez les valeurs affichées et recommencez.", "error")
                return redirect(url_for("accounts.edit_user", user_id=user.id))
            user.email = email
            _apply_user_form(user, form)
            journal.record("utilisateur_modifie", "utilisateur", user.id,
                           f"Modification du compte {email}", before=before, after=_user_snapshot(user))
            try:
                db.session.commit()
            except StaleDataError:
                db.session.rollback()
                flash("Ce compte a été modifié par quelqu'un d'autre entre-temps : recommencez.", "error")
                return redirect(url_for("accounts.edit_user", user_id=user.id))
            flash("Compte enregistré.", "success")
            return redirect(url_for("accounts.users"))
    return render_template("accounts/user_form.html", form=form, user=user)


@bp.route("/admin/utilisateurs/<int:user_id>/reinitialiser", methods=["POST"])
@allow(ADMIN)
def reset_password(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    password = temporary_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.failed_logins = 0
    user.locked_until = None
    journal.record("mot_de_passe_reinitialise", "utilisateur", user.id,
                   "Mot de passe temporaire délivré, compte déverrouillé")
    db.session.commit()
    return render_template("accounts/password_issued.html", user=user, password=password)


# ---- Administration: organisations ------------------------------------------

@bp.route("/admin/organisations")
@allow(ADMIN)
def organisations():
    return render_template("accounts/organisations.html", organisations=_organisations())


@bp.route("/admin/organisations/nouvelle", methods=["GET", "POST"])
@bp.route("/admin/organisations/<int:org_id>", methods=["GET", "POST"])
@allow(ADMIN)
def edit_organisation(org_id: int | None = None):
    org = (db.session.get(Organisation, org_id) or abort(404)) if org_id else None
    form = OrganisationForm(obj=org)
    if request.method == "GET" and org:
        form.region_code.data = org.region_code or ""
    if form.validate_on_submit():
        siret = normalise_siret(form.siret.data)
        clash = db.session.scalar(select(Organisation.id).where(
            Organisation.siret == siret, Organisation.id != (org.id if org else -1)))
        if clash:
            form.siret.errors = ["Une organisation existe déjà avec ce SIRET."]
        else:
            before = _org_snapshot(org) if org else None
            org = org or Organisation()
            org.siret, org.name, org.kind = siret, form.name.data.strip(), form.kind.data
            org.region_code = form.region_code.data or None
            db.session.add(org)
            db.session.flush()
            journal.record("organisation_modifiee" if before else "organisation_creee",
                           "organisation", org.id, f"{org.name} ({org.siret})",
                           before=before, after=_org_snapshot(org))
            db.session.commit()
            flash("Organisation enregistrée.", "success")
            return redirect(url_for("accounts.organisations"))
    return render_template("accounts/organisation_form.html", form=form, org=org)


def _org_snapshot(org: Organisation) -> dict:
    return {"siret": org.siret, "nom": org.name, "type": org.kind, "region": org.region_code}
