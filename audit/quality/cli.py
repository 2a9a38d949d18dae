"""`flask --app wsgi referential check FILE`: validate a referential file (.yaml/.yml or
an edited .xlsx export). Exit 0 with a short French summary when valid, 1 with every
reason on stderr otherwise (2 for a usage error, as click does)."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from quality_framework.referential import ReferentialError, import_referential_xlsx, load_referential

referential_cli = AppGroup("referential", help="Référentiel qualité : vérification des fichiers.")


@referential_cli.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
def check_command(file: str) -> None:
    """Vérifie un fichier de référentiel (YAML ou classeur xlsx exporté)."""
    path = Path(file)
    suffix = path.suffix.lower()
    try:
        if not path.is_file():
            raise ReferentialError([f"fichier introuvable : {file}"])
        if suffix == ".xlsx":
            ref = import_referential_xlsx(path.read_bytes(), 1)
            kind = "classeur xlsx"
        elif suffix in (".yaml", ".yml"):
            ref = load_referential(path)
            kind = "fichier YAML"
        else:
            raise ReferentialError([f"extension « {suffix or '(aucune)'} » non prise en charge "
                                    "(attendu : .yaml, .yml ou .xlsx)"])
    except ReferentialError as exc:
        click.echo(f"{file} : référentiel invalide", err=True)
        for error in exc.errors:
            click.echo(f"  - {error}", err=True)
        sys.exit(1)
    version = "" if suffix == ".xlsx" else f" version {ref.version},"
    click.echo(f"{file} : {kind} valide —{version} {len(ref.axes())} axes, "
               f"{len(ref.leaves())} indicateurs notés, poids total {ref_weight(ref)}.")


def ref_weight(ref) -> str:
    total = sum(leaf.weight or 0 for leaf in ref.leaves())
    return f"{total:g}".replace(".", ",")


def init_app(app: Flask) -> None:
    app.cli.add_command(referential_cli)
