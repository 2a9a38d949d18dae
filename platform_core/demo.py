"""The demo base. The core loads organisations and one account per role; each
domain registers a step that adds its own data. Every step is idempotent."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import click
from sqlalchemy import select

from quality_framework.reference import regions
from quality_framework.siret import luhn_valid

from . import journal
from .extensions import db
from .models import Organisation, User, UserRole
from .passwords import hash_password

DEMO_DOMAIN = "demo-cep.fr"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    roles: tuple[str, ...]
    password: str
    organisation_siret: str | None = None
    region_code: str | None = None


def demo_siret(n: int) -> str:
    """A fictitious SIRET with a valid Luhn key: 999 + number + key digit."""
    base = f"999{n:010d}"
    for key in range(10):
        if luhn_valid(base + str(key)):
            return base + str(key)
    raise AssertionError("unreachable")


FRANCE_COMPETENCES_SIRET = demo_siret(1)
# A dozen fictitious operators; the names say they are fictitious.
DEMO_OPERATORS: list[tuple[str, str]] = [
    ("Cap Parcours (fictif)", "53"), ("Horizons Carrières (fictif)", "52"),
    ("Trajectoires Actives (fictif)", "11"), ("Boussole Emploi (fictif)", "84"),
    ("Cap Métiers Conseil (fictif)", "75"), ("Nouvel Élan Pro (fictif)", "76"),
    ("Passerelles Compétences (fictif)", "44"), ("Rebond Conseil (fictif)", "32"),
    ("Azimut Évolution (fictif)", "93"), ("Archipel Orientation (fictif)", "04"),
    ("Atlas Reconversion (fictif)", "28"), ("Sillage Conseil (fictif)", "24"),
]


def operator_siret(index: int) -> str:
    return demo_siret(100 + index)


def _account(local: str, name: str, roles, password: str, **kw) -> DemoAccount:
    return DemoAccount(f"{local}@{DEMO_DOMAIN}", name, tuple(roles), password, **kw)


DEMO_ACCOUNTS: list[DemoAccount] = [
    _account("admin", "Alice Admin (fictive)", ["admin"], "Demo-Admin-2024!"),
    _account("acheteur", "Bruno Acheteur (fictif)", ["acheteur"], "Demo-Acheteur-2024!",
             organisation_siret=FRANCE_COMPETENCES_SIRET),
    _account("evaluateur", "Chloé Évaluatrice (fictive)", ["evaluateur"], "Demo-Evaluateur-2024!",
             organisation_siret=FRANCE_COMPETENCES_SIRET),
    _account("evaluateur2", "Damien Évaluateur (fictif)", ["evaluateur"], "Demo-Evaluateur2-2024!",
             organisation_siret=FRANCE_COMPETENCES_SIRET),
    _account("auditeur", "Emma Auditrice (fictive)", ["auditeur"], "Demo-Auditeur-2024!",
             organisation_siret=FRANCE_COMPETENCES_SIRET),
    _account("auditeur2", "Fabien Auditeur (fictif)", ["auditeur"], "Demo-Auditeur2-2024!",
             organisation_siret=FRANCE_COMPETENCES_SIRET),
    _account("operateur", "Gaëlle Opératrice (fictive)", ["operateur"], "Demo-Operateur-2024!",
             organisation_siret=operator_siret(0)),
    _account("operateur2", "Hugo Opérateur (fictif)", ["operateur"], "Demo-Operateur2-2024!",
             organisation_siret=operator_siret(1)),
    _account("observateur", "Inès Observatrice nationale (fictive)", ["observateur"],
             "Demo-Observateur-2024!"),
    _account("observateur.bretagne", "Jules Observateur CREFOP Bretagne (fictif)", ["observateur"],
             "Demo-ObsBretagne-2024!", region_code="53"),
]

_steps: list[tuple[int, str, Callable[[], str | None]]] = []


def register_demo_step(order: int, name: str, load: Callable[[], str | None]) -> None:
    """`load()` adds a domain's demo data if absent and returns a one-line summary."""
    if not any(existing == name for _, existing, _ in _steps):
        _steps.append((order, name, load))


def _get_or_create_org(siret: str, name: str, kind: str, region: str | None) -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.siret == siret))
    if org is None:
        org = Organisation(siret=siret, name=name, kind=kind, region_code=region)
        db.session.add(org)
        db.session.flush()
        journal.record("organisation_creee", "organisation", org.id, f"{name} (démo)")
    return org


def load_core() -> str:
    _get_or_create_org(FRANCE_COMPETENCES_SIRET, "France compétences (démo)", "FRANCE_COMPETENCES", None)
    for i, (name, region) in enumerate(DEMO_OPERATORS):
        _get_or_create_org(operator_siret(i), name, "OPERATEUR", region)
    for i, (code, region) in enumerate(regions().items()):
        _get_or_create_org(demo_siret(500 + i), f"CREFOP {region.name} (fictif)", "CREFOP", code)
    created = 0
    for account in DEMO_ACCOUNTS:
        if db.session.scalar(select(User.id).where(User.email == account.email)):
            continue
        org = None
        if account.organisation_siret:
            org = db.session.scalar(select(Organisation).where(Organisation.siret == account.organisation_siret))
        user = User(email=account.email, full_name=account.full_name,
                    password_hash=hash_password(account.password), must_change_password=False,
                    organisation=org, region_code=account.region_code,
                    roles=[UserRole(role=r) for r in account.roles])
        db.session.add(user)
        db.session.flush()
        journal.record("utilisateur_cree", "utilisateur", user.id, f"Compte de démonstration {user.email}")
        created += 1
    return f"{len(DEMO_OPERATORS)} opérateurs fictifs, {created} comptes créés"


def load_demo(echo: Callable[[str], None] = click.echo) -> None:
    steps = [(0, "socle", load_core)] + sorted(_steps)
    for _, name, load in steps:
        summary = load()
        db.session.commit()
        echo(f"  ✓ {name} : {summary or 'déjà présent'}")


def accounts_table() -> str:
    lines = ["Comptes de démonstration (fictifs) :"]
    for a in DEMO_ACCOUNTS:
        scope = f" — région {a.region_code}" if a.region_code else ""
        lines.append(f"  {', '.join(a.roles):<12} {a.email:<40} {a.password}{scope}")
    return "\n".join(lines)
