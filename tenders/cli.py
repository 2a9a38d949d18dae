"""`flask --app wsgi tenders simulate INPUT.json`: the scoring simulation of
spec/tender.md on stdout (exit 0), or French errors on stderr (exit 1)."""
from __future__ import annotations

import json
import sys

import click
from flask import Flask
from flask.cli import AppGroup

from quality_framework.simulation import SimulationInputError, simulate

tenders_cli = AppGroup("tenders", help="Appels d'offres : simulation de notation.")


@tenders_cli.command("simulate")
@click.argument("input_path", metavar="INPUT.json")
def simulate_command(input_path: str) -> None:
    """Note et classe les offres du fichier JSON (format : docs/tenders.md)."""
    try:
        with open(input_path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        _fail(f"Fichier introuvable : {input_path}")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"Fichier illisible : {input_path} ({exc.__class__.__name__}). Un fichier JSON UTF-8 est attendu.")
    except json.JSONDecodeError as exc:
        _fail(f"JSON invalide dans {input_path}, ligne {exc.lineno}, colonne {exc.colno} : {exc.msg}.")
    try:
        result = simulate(data)
    except SimulationInputError as exc:
        _fail("Entrée invalide :\n" + "\n".join(f"  - {e}" for e in exc.errors))
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))


def _fail(message: str):
    click.echo(message, err=True)
    sys.exit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(tenders_cli)
