"""`flask --app wsgi report fund-use --year N [--xlsx OUT.xlsx] [--json]`."""
from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from .services import MAX_YEAR, MIN_YEAR


def _json_default(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def _report_group(app: Flask) -> click.Group:
    """The shared `report` group (another domain may have created it already)."""
    group = app.cli.commands.get("report")
    if group is None:
        group = AppGroup("report", help="Rapports (usage des fonds…).")
        app.cli.add_command(group)
    return group


def init_app(app: Flask) -> None:
    from . import demo  # noqa: F401  (registers the demo step, order 30)

    group = _report_group(app)

    @group.command("fund-use")
    @click.option("--year", "year_text", required=True, help="Année du rapport, par exemple 2025.")
    @click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False), default=None,
                  help="Écrit le rapport complet dans ce fichier .xlsx.")
    @click.option("--json", "as_json", is_flag=True,
                  help="Écrit le rapport national en JSON sur la sortie standard.")
    def fund_use(year_text: str, xlsx_path: str | None, as_json: bool):
        """Rapport annuel sur l'usage des fonds (contrats, régions, national)."""
        from .export import report_workbook
        from .services import compute_report

        if not year_text.isdigit() or not MIN_YEAR <= int(year_text) <= MAX_YEAR:
            click.echo(f"Erreur : année « {year_text} » invalide : attendu une année sur "
                       f"quatre chiffres entre {MIN_YEAR} et {MAX_YEAR}.", err=True)
            raise SystemExit(1)
        year = int(year_text)
        report = compute_report(year)
        if xlsx_path:
            try:
                Path(xlsx_path).write_bytes(report_workbook(report))
            except OSError as exc:
                click.echo(f"Erreur : impossible d'écrire {xlsx_path} ({exc.strerror}).", err=True)
                raise SystemExit(1)
        if as_json:
            from quality_framework.fund_use_report import summary

            national = report["national"]
            payload = {
                "year": year,
                "national": {"summary": summary(national), **national},
                "medians": report["medians"],
                "regions": [{"code": r["id"], "label": r["label"], "summary": summary(r)}
                            for r in report["regions"]],
                "sources": report["sources"],
            }
            click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=_json_default))
        else:
            n = report["national"]
            click.echo(f"Usage des fonds {year} : {len(report['contracts'])} contrat(s), "
                       f"payé {n['funds']['paid_total']:.2f} €, part variable gagnée "
                       f"{n['funds']['variable_earned']:.2f} €"
                       + (f" ; classeur écrit dans {xlsx_path}" if xlsx_path else "") + ".")
