"""Indicators of a scope (contract, region, nation) from the STORED counts of current
versions: sum_counts / sum_means / sum_finances / sum_capacity then
indicators_from_counts. No formula is written here."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from platform_core.extensions import db
from quality_framework.alerts import DEFAULT_THRESHOLDS, Alert, evaluate_alerts
from quality_framework.indicators import (
    indicators_from_counts, sum_capacity, sum_counts, sum_finances, sum_means,
)
from tenders.models import Contract

from .models import AlertThresholds, WorkbookVersion
from .service import version_counts

# Label and display kind of each scalar indicator.
LABELS: dict[str, tuple[str, str]] = {
    "entrees": ("Entrées de l'année", "count"),
    "parcours_actifs": ("Parcours actifs", "count"),
    "sorties": ("Sorties de l'année", "count"),
    "taux_abandon": ("Taux d'abandon", "share"),
    "taux_plan_action": ("Sorties avec plan d'actions", "share"),
    "taux_document_synthese": ("Remise du document de synthèse (niveaux 2-3)", "share"),
    "taux_information_seule": ("Entrées en information seule (niveau 1)", "share"),
    "taux_parcours_courts": ("Parcours courts (≤ 1 entretien)", "share"),
    "satisfaction_moyenne": ("Satisfaction moyenne (sur 5)", "decimal"),
    "taux_satisfaits": ("Bénéficiaires satisfaits (4 ou 5)", "share"),
    "taux_reponse": ("Taux de réponse à l'enquête", "share"),
    "heures_totales": ("Heures d'accompagnement", "count"),
    "duree_moyenne_sortie": ("Durée moyenne d'un parcours sorti (heures)", "decimal"),
    "charges_totales": ("Charges totales", "euros"),
    "cout_par_entree": ("Coût par entrée", "euros"),
    "cout_par_heure": ("Coût par heure", "euros"),
    "entrees_par_etp": ("Entrées par ETP de conseiller", "decimal"),
    "taux_realisation": ("Taux de réalisation (entrées / capacité engagée)", "share"),
}
DIMENSION_LABELS = {
    "niveau_max": "Niveau de service", "sexe": "Sexe", "tranche_age": "Tranche d'âge",
    "rqth": "RQTH", "statut": "Statut", "csp": "Catégorie socioprofessionnelle",
    "niveau_qualification": "Niveau de qualification", "taille_entreprise": "Taille d'entreprise",
    "motif": "Motif", "canal": "Canal", "departement": "Département de résidence",
    "type_sortie": "Type de sortie (sorties de l'année)",
}


def thresholds_for(year: int) -> dict[str, float]:
    row = db.session.scalar(select(AlertThresholds).where(AlertThresholds.year == year))
    return {**DEFAULT_THRESHOLDS, **(row.thresholds if row else {})}


def current_versions(contract_ids: list[int], year: int | None = None) -> list[WorkbookVersion]:
    if not contract_ids:
        return []
    q = select(WorkbookVersion).where(WorkbookVersion.contract_id.in_(contract_ids),
                                      WorkbookVersion.is_current.is_(True))
    if year is not None:
        q = q.where(WorkbookVersion.year == year)
    return list(db.session.scalars(q.order_by(WorkbookVersion.year, WorkbookVersion.contract_id)))


def indicators_of(versions: list[WorkbookVersion]) -> dict:
    """Indicators of one or many current versions of the same year (rows aggregated)."""
    if len(versions) == 1:  # a single contract: its own Moyens as declared
        v = versions[0]
        return indicators_from_counts(version_counts(v), v.means, v.finances, v.contract.annual_capacity)
    return indicators_from_counts(
        sum_counts(version_counts(v) for v in versions),
        sum_means(v.means for v in versions),
        sum_finances(v.finances for v in versions),
        # only contracts that deposited: a missing workbook is not a zero
        sum_capacity(v.contract.annual_capacity for v in versions),
    )


@dataclass
class ScopeFigures:
    years: list[int]
    year: int | None
    indicators: dict | None                       # selected year
    by_year: dict[int, dict] = field(default_factory=dict)
    versions: list[WorkbookVersion] = field(default_factory=list)  # selected year
    alerts: list[tuple[WorkbookVersion, Alert]] = field(default_factory=list)
    scope_alerts: list[Alert] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)


def scope_figures(contracts: list[Contract], year: int | None) -> ScopeFigures:
    versions = current_versions([c.id for c in contracts])
    by_year_versions: dict[int, list[WorkbookVersion]] = {}
    for v in versions:
        by_year_versions.setdefault(v.year, []).append(v)
    years = sorted(by_year_versions)
    if year not in by_year_versions:
        year = years[-1] if years else None
    by_year = {y: indicators_of(vs) for y, vs in by_year_versions.items()}
    result = ScopeFigures(years, year, by_year.get(year), by_year)
    if year is None:
        return result
    result.versions = by_year_versions[year]
    result.thresholds = thresholds_for(year)
    result.scope_alerts = evaluate_alerts(result.indicators, result.thresholds)
    for v in result.versions:
        own = by_year[year] if len(result.versions) == 1 else indicators_of([v])
        for alert in evaluate_alerts(own, result.thresholds):
            result.alerts.append((v, alert))
    return result


def version_figures(version: WorkbookVersion) -> ScopeFigures:
    """Figures of one version (current or earlier), for its own year."""
    indicators = indicators_of([version])
    thresholds = thresholds_for(version.year)
    alerts = evaluate_alerts(indicators, thresholds)
    return ScopeFigures([version.year], version.year, indicators, {version.year: indicators},
                        [version], [(version, a) for a in alerts], alerts, thresholds)


def format_value(name: str, value) -> str:
    from platform_core.formatting import fr_euros, fr_number, fr_percent

    kind = LABELS.get(name, (name, "decimal"))[1]
    if value is None:
        return "non calculable"
    if kind == "share":
        return fr_percent(value)
    if kind == "euros":
        return fr_euros(value)
    if kind == "count":
        return fr_number(value)
    return fr_number(value, 2)
