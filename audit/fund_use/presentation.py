"""Charts of the report pages, each with the table that says the same thing (RGAA)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from platform_core.charts import bar_chart, line_chart, stacked_bar_chart
from platform_core.formatting import fr_euros, fr_number
from quality_framework.fund_use_report import series
from quality_framework.indicators import CHARGE_POSTES

POSTE_LABELS = {
    "PERSONNEL": "Personnel", "LOCAUX": "Locaux", "SYSTEMES_INFORMATION": "Systèmes d'information",
    "COMMUNICATION": "Communication", "SOUS_TRAITANCE": "Sous-traitance",
    "FRAIS_STRUCTURE": "Frais de structure", "AUTRES_CHARGES": "Autres charges",
}


@dataclass
class Chart:
    svg: Markup
    caption: str
    headers: list[str]
    rows: list[list[str]]


def _euros0(v):
    return fr_euros(v, 0)


def _keuros(v):
    return fr_number(v / 1000) + "\u202fk€"


def _ranked(blocks: list[dict[str, Any]], value) -> list[dict[str, Any]]:
    """Highest first, « non calculable » last: ranked bars read faster."""
    return sorted(blocks, key=lambda b: (value(b) is None, -(value(b) or 0)))


def cost_per_entry_chart(blocks: list[dict[str, Any]], median: float | None, what: str) -> Chart:
    blocks = _ranked(blocks, lambda b: b["efficiency"]["cout_par_entree"]["value"])
    items = [(b["label"], b["efficiency"]["cout_par_entree"]["value"]) for b in blocks]
    title = f"Coût par entrée par {what}"
    svg = bar_chart(items, title, value_format=_euros0, reference=median,
                    reference_label="médiane nationale")
    rows = [[label, fr_euros(v), b["efficiency"]["cout_par_entree"]["position"]["label_fr"]]
            for (label, v), b in zip(items, blocks)]
    rows.append(["Médiane nationale (contrats)", fr_euros(median), ""])
    return Chart(svg, title, [what.capitalize(), "Coût par entrée", "Position"], rows)


def entries_chart(blocks: list[dict[str, Any]], what: str) -> Chart:
    blocks = _ranked(blocks, lambda b: b["activity"]["entrees"])
    items = [(b["label"], b["activity"]["entrees"]) for b in blocks]
    title = f"Entrées par {what}"
    svg = bar_chart(items, title, value_format=lambda v: fr_number(v))
    rows = [[label, fr_number(v)] for label, v in items]
    return Chart(svg, title, [what.capitalize(), "Entrées"], rows)


def charges_chart(blocks: list[dict[str, Any]], what: str) -> Chart | None:
    declared = [b for b in blocks if b["use"]["charges"] is not None]
    if not declared:
        return None
    cats = [b["label"] for b in declared]
    data = {POSTE_LABELS[p]: [b["use"]["charges"][p] for b in declared] for p in CHARGE_POSTES}
    title = f"Charges déclarées par poste et par {what} (parts du total)"
    svg = stacked_bar_chart(cats, data, title)
    headers = [what.capitalize(), *POSTE_LABELS.values(), "Total"]
    rows = [[b["label"], *(fr_euros(b["use"]["charges"][p], 0) for p in CHARGE_POSTES),
             fr_euros(b["use"]["charges_totales"], 0)] for b in declared]
    return Chart(svg, title, headers, rows)


def trend_charts(evolution: dict[str, Any] | None, scale: str, ident: Any = None,
                 label: str = "") -> list[Chart]:
    if not evolution or len(evolution["years"]) < 1:
        return []
    years = [str(y) for y in evolution["years"]]
    if scale == "national" and evolution.get("national") is None:
        return []
    charts = []
    for key, title, fmt in (("cout_par_entree", "Coût par entrée", _euros0),
                            ("entrees", "Entrées", lambda v: fr_number(v)),
                            ("paid_total", "Total payé", _keuros)):
        values = series(evolution, key, scale, ident)
        name = label or "National"
        svg = line_chart(years, {name: values}, f"{title} — évolution ({name})", value_format=fmt)
        exact = (lambda v: fr_number(v)) if key == "entrees" else fr_euros  # table: to the cent
        rows = [[y, exact(v)] for y, v in zip(years, values)]
        charts.append(Chart(svg, f"{title} — évolution", ["Année", title], rows))
    return charts
