"""Core command-line: `flask --app wsgi demo` and `flask --app wsgi create-admin`."""
from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import func, select

from . import journal
from .extensions import db
from .models import User, UserRole
from .passwords import hash_password, temporary_password


def init_app(app: Flask) -> None:
    from .jobs_cli import jobs_group

    app.cli.add_command(jobs_group)

    @app.cli.command("demo")
    def demo_command():
        """Charge (ou complète) la base de démonstration fictive."""
        from .demo import accounts_table, load_demo

        click.echo("Chargement de la démonstration…")
        load_demo()
        click.echo(accounts_table())

    @app.cli.command("create-admin")
    @click.option("--email", required=True, help="Adresse électronique du compte.")
    @click.option("--name", "full_name", default="Administrateur", help="Nom affiché.")
    def create_admin(email: str, full_name: str):
        """Crée un administrateur avec un mot de passe temporaire à changer."""
        email = email.strip().lower()
        if "@" not in email or len(email) > 254:
            raise click.UsageError(f"Adresse électronique invalide : « {email} ».")
        if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
            raise click.UsageError(f"Un compte existe déjà pour {email}.")
        password = temporary_password()
        user = User(email=email, full_name=full_name, password_hash=hash_password(password),
                    must_change_password=True, roles=[UserRole(role="admin")])
        db.session.add(user)
        db.session.flush()
        journal.record("utilisateur_cree", "utilisateur", user.id, f"Administrateur {email} (ligne de commande)")
        db.session.commit()
        click.echo(f"Administrateur créé : {email}\nMot de passe temporaire (à changer à la première connexion) : {password}")
