"""« Lecture qualitative »: alerts on indicators (spec/activity-workbook.md).

Each alert rule fixes its direction (an abandonment rate is bad when high, a completion
rate when low) and describes, as data, the rows behind it; campaigns only adjust the
threshold values, stored as {indicator: threshold}. A « non calculable » figure (None)
raises no alert: there is nothing to judge.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import Select, Table, and_, select

from .indicators import entered_in, exited_in

ABOVE, BELOW = "above", "below"  # alert when value > threshold / value < threshold

# Each rows_filter: the population of year N ("entrees" or "sorties") and conditions
# [column, operator, value] that pick the rows that make the figure bad.
ALERT_RULES: dict[str, dict[str, Any]] = {
    "taux_information_seule": {
        "direction": ABOVE,
        "label_fr": "Part des entrées en information seule (niveau 1)",
        "rows_filter": {"population": "entrees", "conditions": [["niveau_max", "=", 1]],
                        "description_fr": "Entrées de l'année au niveau 1 (accueil individualisé)"},
    },
    "taux_abandon": {
        "direction": ABOVE,
        "label_fr": "Taux d'abandon",
        "rows_filter": {"population": "sorties",
                        "conditions": [["type_sortie", "=", "ABANDON"]],
                        "description_fr": "Sorties de l'année par abandon de la démarche"},
    },
    "taux_parcours_courts": {
        "direction": ABOVE,
        "label_fr": "Part des parcours courts",
        "rows_filter": {"population": "sorties", "conditions": [["nb_entretiens", "<=", 1]],
                        "description_fr": "Sorties de l'année après au plus un entretien"},
    },
    "taux_realisation": {
        "direction": BELOW,
        "label_fr": "Taux de réalisation",
        "rows_filter": {"population": "entrees", "conditions": [],
                        "description_fr": "Entrées de l'année (comparées à la capacité engagée)"},
    },
    "taux_satisfaits": {
        "direction": BELOW,
        "label_fr": "Taux de bénéficiaires satisfaits",
        "rows_filter": {"population": "sorties", "conditions": [["satisfaction", "<", 4]],
                        "description_fr": "Sorties de l'année avec une satisfaction de 1 à 3"},
    },
    "taux_document_synthese": {
        "direction": BELOW,
        "label_fr": "Taux de remise du document de synthèse",
        "rows_filter": {"population": "sorties",
                        "conditions": [["niveau_max", ">=", 2], ["document_synthese", "=", "N"]],
                        "description_fr": "Sorties de l'année de niveau 2 ou 3 sans document de synthèse"},
    },
}

DEFAULT_THRESHOLDS: dict[str, float] = {
    "taux_information_seule": 0.40,
    "taux_abandon": 0.25,
    "taux_parcours_courts": 0.30,
    "taux_realisation": 0.80,
    "taux_satisfaits": 0.85,
    "taux_document_synthese": 0.90,
}


@dataclass(frozen=True)
class Alert:
    indicator: str
    value: float
    threshold: float
    direction: str
    message_fr: str
    rows_filter: dict[str, Any]


def percent_fr(value: float) -> str:
    """0.325 -> '32,5 %' (French decimal comma, non-breaking space)."""
    return f"{value * 100:.1f}".replace(".", ",") + "\u00a0%"


def validate_thresholds(thresholds: Mapping[str, Any]) -> list[str]:
    """French error messages for a campaign's thresholds; an empty list means valid.
    Every alert figure is a share, so its threshold must lie in [0, 1]."""
    errors = []
    for name, value in thresholds.items():
        if name not in ALERT_RULES:
            errors.append(f"Indicateur inconnu pour une alerte : « {name} ».")
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(f"Le seuil de « {name} » doit être un nombre (reçu : {value!r}).")
        elif not 0 <= value <= 1:
            errors.append(
                f"Le seuil de « {name} » est une part : il doit être compris entre 0 et 1 "
                f"(par exemple 0,40 pour 40 %) ; reçu : {value}."
            )
    return errors


def evaluate_alerts(
    indicators: Mapping[str, Any], thresholds: Mapping[str, float] = DEFAULT_THRESHOLDS
) -> list[Alert]:
    """Alerts raised by the indicators (strict comparisons: a value exactly at the
    threshold raises nothing). Only indicators present in `thresholds` are checked."""
    alerts = []
    for name, rule in ALERT_RULES.items():
        threshold = thresholds.get(name)
        value = indicators.get(name)
        if threshold is None or value is None:
            continue
        above = rule["direction"] == ABOVE
        if (value > threshold) if above else (value < threshold):
            word = "supérieur" if above else "inférieur"
            message = (f"{rule['label_fr']} : {percent_fr(value)}, {word} au seuil "
                       f"d'alerte de {percent_fr(threshold)}.")
            alerts.append(Alert(name, value, threshold, rule["direction"], message,
                                _copy_filter(rule["rows_filter"])))
    return alerts


def _copy_filter(rows_filter: Mapping[str, Any]) -> dict[str, Any]:
    """The caller's own copy (it may change it); the rules are flat strings and one list
    of conditions, so this is a deep copy without deepcopy's cost (pages evaluate alerts
    for every contract)."""
    return {**rows_filter, "conditions": [list(c) for c in rows_filter["conditions"]]}


_OPERATORS = {
    "=": lambda c, v: c == v, "<": lambda c, v: c < v, "<=": lambda c, v: c <= v,
    ">": lambda c, v: c > v, ">=": lambda c, v: c >= v,
}


def alert_rows_select(rows_table: Table, version_id: int, year: int, indicator: str) -> Select:
    """SELECT of the rows behind an alert (id_parcours, row_number and the columns the
    filter uses), in spreadsheet order. Raises KeyError for an unknown indicator."""
    t = rows_table
    rows_filter = ALERT_RULES[indicator]["rows_filter"]
    population = rows_filter["population"]
    clauses = [t.c.workbook_version_id == version_id,
               entered_in(t, year) if population == "entrees" else exited_in(t, year)]
    shown = ["id_parcours", "row_number", "date_entree"]
    if population == "sorties":
        shown += ["date_sortie", "type_sortie"]
    for column, op, value in rows_filter["conditions"]:
        clauses.append(_OPERATORS[op](t.c[column], value))
        if column not in shown:
            shown.append(column)
    return (select(*(t.c[name] for name in shown))
            .where(and_(*clauses))
            .order_by(t.c.row_number, t.c.id))
