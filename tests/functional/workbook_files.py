"""Real activity workbooks written with openpyxl from literal values, for the
workbook tests. Independent of the validator code on purpose."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from openpyxl import Workbook

HEADERS = ["id_parcours", "date_entree", "niveau_max", "sexe", "tranche_age", "rqth", "statut",
           "csp", "niveau_qualification", "taille_entreprise", "secteur_naf", "departement",
           "motif", "canal", "nb_entretiens", "duree_heures", "date_sortie", "type_sortie",
           "document_synthese", "satisfaction"]

# Six paths of 2025 in Bretagne (53). By hand, for year 2025:
#   entrees = 5 (P6 entered in 2024), parcours_actifs = 6, sorties = 4 (P1, P2, P3, P6)
#   ABANDON 1 / 4 -> taux_abandon 0.25 ; PLAN_ACTION 2 / 4 -> 0.5
#   niveau 1 among entrees: P4 -> taux_information_seule 1/5 = 0.2
#   sorties with nb_entretiens <= 1: P3 -> taux_parcours_courts 0.25
#   satisfaction answers among sorties: P1=5, P2=4, P6=2 -> mean 11/3, satisfaits 2/3,
#   taux_reponse 3/4
#   sorties with niveau >= 2: P1, P2, P3, P6 (P3 is niveau 2) ; document O: P1, P2, P6 -> 3/4
#   heures_totales = 10 + 6 + 1.5 + 0.5 + 3 + 12 = 33
ROWS = [
    ["P1", date(2025, 1, 15), 3, "F", "26-44", "N", "CDI", "5", "4", "PE", "Q", "35", "PROJET", "PRESENTIEL", 4, 10, date(2025, 6, 30), "PLAN_ACTION", "O", 5],
    ["P2", date(2025, 2, 3), 2, "H", "45-54", "O", "CDD", "6", "3", "TPE", "C", "29", "POINT", "VISIO", 3, 6, date(2025, 5, 12), "PLAN_ACTION", "O", 4],
    ["P3", date(2025, 3, 1), 2, "F", "15-25", "N", "INTERIM", "6", "SANS", "ME", "N", "56", "COMPETENCES", "TELEPHONE", 1, 1.5, date(2025, 3, 20), "ABANDON", "N", None],
    ["P4", date(2025, 9, 10), 1, "F", "55+", "N", "CDI", "4", "5", "GE", "K", "22", "POINT", "PRESENTIEL", 1, 0.5, None, None, "N", None],
    ["P5", "12/11/2025", 2, "H", "26-44", "N", "INDEPENDANT", "2", "6", "SO", None, "35", "CREATION", "MIXTE", 2, 3, None, None, "N", None],
    ["P6", date(2024, 10, 1), 3, "F", "26-44", "N", "ALTERNANCE", "5", "4", "PE", "Q", "35", "TRANSITION", "PRESENTIEL", 5, 12, date(2025, 4, 2), "FIN_POINT", "O", 2],
]
MOYENS = [("etp_conseillers", 2.5), ("nb_conseillers", 3), ("nb_sites_permanents", 1),
          ("nb_lieux_permanence", 2), ("heures_formation_conseillers", 40),
          ("heures_hors_temps_travail_hebdo", 4), ("delai_moyen_premier_rdv_jours", 6)]
FINANCES = [("PERSONNEL", 100000), ("LOCAUX", 20000), ("FINANCEMENT_FRANCE_COMPETENCES", 110000)]


def write_workbook(path: Path, *, siret: str, region: str = "53", year: int = 2025, rows=None,
                   headers=None, drop_sheet: str | None = None) -> Path:
    wb = Workbook()
    ident = wb.active
    ident.title = "Identification"
    ident.append(["champ", "valeur"])
    for row in (("siret", siret), ("code_region", region), ("annee", year),
                ("contact_email", "bilan@operateur-test.fr")):
        ident.append(list(row))
    benef = wb.create_sheet("Beneficiaires")
    benef.append(headers or HEADERS)
    for row in (ROWS if rows is None else rows):
        benef.append(list(row))
    for col in ("B", "Q"):
        for cell in benef[col][1:]:
            cell.number_format = "DD/MM/YYYY"
    moyens = wb.create_sheet("Moyens")
    moyens.append(["champ", "valeur"])
    for row in MOYENS:
        moyens.append(list(row))
    fin = wb.create_sheet("Finances")
    fin.append(["poste", "montant_eur"])
    for row in FINANCES:
        fin.append(list(row))
    if drop_sheet:
        del wb[drop_sheet]
    wb.save(path)
    return path


def write_ods_workbook(path: Path, *, siret: str, region: str = "53", year: int = 2025, rows=None) -> Path:
    """The same workbook as .ods (LibreOffice), written with pandas + odfpy."""
    import pandas as pd

    content = {
        "Identification": [["champ", "valeur"], ["siret", siret], ["code_region", region], ["annee", year],
                           ["contact_email", "bilan@operateur-test.fr"]],
        "Beneficiaires": [HEADERS] + [list(r) for r in (ROWS if rows is None else rows)],
        "Moyens": [["champ", "valeur"]] + [list(r) for r in MOYENS],
        "Finances": [["poste", "montant_eur"]] + [list(r) for r in FINANCES],
    }
    with pd.ExcelWriter(path, engine="odf") as writer:
        for name, sheet_rows in content.items():
            pd.DataFrame(sheet_rows, dtype=object).to_excel(writer, sheet_name=name, header=False, index=False)
    return path
