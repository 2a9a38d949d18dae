"""Names of the figures the platform computes from activity workbooks.

One list, used by the indicator formulas, the referential loader (links must name real
figures) and the pages. Shares are fractions in [0, 1]."""
from __future__ import annotations

# Scalar indicators of the « socle national » (spec/activity-workbook.md).
SCALAR_INDICATORS: tuple[str, ...] = (
    "entrees",
    "parcours_actifs",
    "sorties",
    "taux_abandon",
    "taux_plan_action",
    "taux_document_synthese",
    "taux_information_seule",
    "taux_parcours_courts",
    "satisfaction_moyenne",
    "taux_satisfaits",
    "taux_reponse",
    "heures_totales",
    "duree_moyenne_sortie",
    "charges_totales",
    "cout_par_entree",
    "cout_par_heure",
    "entrees_par_etp",
    "taux_realisation",
)

# Distributions of entrées (count per code), plus sorties by type_sortie.
DISTRIBUTIONS: tuple[str, ...] = (
    "niveau_max",
    "sexe",
    "tranche_age",
    "rqth",
    "statut",
    "csp",
    "niveau_qualification",
    "taille_entreprise",
    "motif",
    "canal",
    "departement",
)
EXIT_DISTRIBUTION = "type_sortie"

# Fields of the Moyens sheet, shown as declared.
MEANS_FIELDS: tuple[str, ...] = (
    "etp_conseillers",
    "nb_conseillers",
    "nb_sites_permanents",
    "nb_lieux_permanence",
    "heures_formation_conseillers",
    "heures_hors_temps_travail_hebdo",
    "delai_moyen_premier_rdv_jours",
)

# Status of the annual workbook for a contract and year (deposited, late, missing).
WORKBOOK_STATUS = "statut_bilan"


def link_names() -> frozenset[str]:
    """Every name a referential node may link to: 'taux_abandon',
    'repartition.canal', 'moyens.delai_moyen_premier_rdv_jours', 'statut_bilan'."""
    return frozenset(
        SCALAR_INDICATORS
        + tuple(f"repartition.{d}" for d in DISTRIBUTIONS + (EXIT_DISTRIBUTION,))
        + tuple(f"moyens.{m}" for m in MEANS_FIELDS)
        + (WORKBOOK_STATUS,)
    )
