"""`flask --app wsgi workbook check|indicators FILE --siret S --region R --year N`.

The same checks as the upload page, without a database contract: the allowed region is
the one given. Exit codes: 0 valid (warnings allowed), 1 at least one error, 2 the file
cannot be read at all or an argument is wrong (French message on stderr)."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click
from flask import Flask, current_app

from quality_framework import reference
from quality_framework.indicators import counts_from_frame, indicators_from_counts
from quality_framework.siret import siret_error
from quality_framework.workbook import UnreadableWorkbook, read_workbook, validate_workbook

from .service import reader_limits

EXIT_VALID, EXIT_ERRORS, EXIT_UNREADABLE = 0, 1, 2


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(EXIT_UNREADABLE)


def _arguments(file: str, siret: str, region: str, year: str) -> tuple[bytes, int]:
    # Options are checked here rather than by click, so every message is in French.
    for name, value, example in (("--siret", siret, "--siret 12345678901234"),
                                 ("--region", region, "--region 53"), ("--year", year, "--year 2025")):
        if not value:
            _fail(f"Argument {name} manquant (exemple : {example}).")
    error = siret_error(siret)
    if error:
        _fail(f"Argument --siret incorrect : {error}")
    if region not in reference.regions():
        _fail(f"Argument --region incorrect : « {region} » n'est pas un code de région INSEE "
              f"(attendu l'un de : {', '.join(reference.regions())}).")
    if not re.fullmatch(r"\d{4}", year or ""):
        _fail(f"Argument --year incorrect : « {year} » n'est pas une année sur 4 chiffres (ex. 2025).")
    path = Path(file)
    if not path.is_file():
        _fail(f"Fichier introuvable : {file}")
    max_bytes = current_app.config["MAX_UPLOAD_BYTES"]
    if path.stat().st_size > max_bytes:
        _fail(f"Fichier illisible : il dépasse la taille maximale autorisée "
              f"({max_bytes // (1024 * 1024)} Mo).")
    return path.read_bytes(), int(year)


def _validate(data: bytes, siret: str, region: str, year: int):
    try:
        raw = read_workbook(data, **reader_limits())
        return validate_workbook(raw, expected_siret=siret, allowed_regions={region}, year=year,
                                 contract_region=region)
    except UnreadableWorkbook as exc:
        _fail(f"Fichier illisible : {exc.message}")


def _print_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


_common = [
    click.argument("file"),
    click.option("--siret", help="SIRET de l'opérateur qui dépose."),
    click.option("--region", help="Code INSEE de la région du marché (ex. 53)."),
    click.option("--year", help="Année N du bilan (ex. 2025)."),
]


def _with_common(func):
    for decorator in reversed(_common):
        func = decorator(func)
    return func


@click.group("workbook", help="Bilans annuels d'activité : vérification et indicateurs.")
def workbook_cli():
    pass


@workbook_cli.command("check", help="Vérifie un bilan sans rien enregistrer.")
@_with_common
@click.option("--json", "as_json", is_flag=True, help="Rapport au format JSON sur la sortie standard.")
def check_command(file, siret, region, year, as_json):
    data, year = _arguments(file, siret, region, year)
    result = _validate(data, siret, region, year)
    if as_json:
        _print_json(result.to_json())
    else:
        click.echo(result.to_text(limit=200))
    sys.exit(EXIT_VALID if result.valid else EXIT_ERRORS)


@workbook_cli.command("indicators", help="Calcule les indicateurs d'un bilan valide.")
@_with_common
@click.option("--json", "as_json", is_flag=True, help="Indicateurs au format JSON.")
@click.option("--capacite", default=None,
              help="Capacité annuelle engagée (nombre d'entrées), pour taux_realisation.")
def indicators_command(file, siret, region, year, as_json, capacite):
    capacity = None
    if capacite is not None:
        try:
            capacity = float(str(capacite).replace(",", "."))
        except ValueError:
            capacity = -1
        if not capacity > 0:
            _fail(f"Argument --capacite incorrect : « {capacite} » doit être un nombre positif d'entrées.")
    data, year = _arguments(file, siret, region, year)
    result = _validate(data, siret, region, year)
    if not result.valid:
        if as_json:
            _print_json(result.to_json())
        else:
            click.echo(result.to_text(limit=200))
        sys.exit(EXIT_ERRORS)
    counts = counts_from_frame(result.beneficiaries, year)
    indicators = indicators_from_counts(counts, result.moyens, result.finances, capacity)
    if as_json:
        _print_json(indicators)
    else:
        for name, value in indicators.items():
            if name != "repartition":
                click.echo(f"{name} : {'non calculable' if value is None else value}")
        for dim, dist in indicators["repartition"].items():
            click.echo(f"répartition {dim} : " + ", ".join(f"{k}={v}" for k, v in dist.items()))
    sys.exit(EXIT_VALID)


def init_app(app: Flask) -> None:
    from . import demo  # noqa: F401  (registers the demo step, order 20)

    app.cli.add_command(workbook_cli)
