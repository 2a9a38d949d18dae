"""Independent fixture for the workbook tests: literal headers and values, written with
openpyxl (xlsx) or pandas/odfpy (ods). Deliberately does NOT import the workbook contract
or validator, so a wrong contract cannot make both the fixture and the code wrong."""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd

SIRET = "73282932000074"  # Luhn-valid
OTHER_SIRET = "35600000000048"  # Luhn-valid, another organisation
REGION = "84"  # Auvergne-Rhône-Alpes
YEAR = 2024

HEADERS = [
    "id_parcours", "date_entree", "niveau_max", "sexe", "tranche_age", "rqth", "statut",
    "csp", "niveau_qualification", "taille_entreprise", "secteur_naf", "departement",
    "motif", "canal", "nb_entretiens", "duree_heures", "date_sortie", "type_sortie",
    "document_synthese", "satisfaction",
]

BASE_ROW = {
    "id_parcours": "P-0001", "date_entree": dt.date(2024, 3, 15), "niveau_max": 2,
    "sexe": "F", "tranche_age": "26-44", "rqth": "N", "statut": "CDI", "csp": "5",
    "niveau_qualification": "4", "taille_entreprise": "PE", "secteur_naf": "G",
    "departement": "69", "motif": "PROJET", "canal": "PRESENTIEL", "nb_entretiens": 3,
    "duree_heures": 4.5, "date_sortie": dt.date(2024, 6, 30), "type_sortie": "PLAN_ACTION",
    "document_synthese": "O", "satisfaction": 4,
}


def ben_row(i: int = 1, **overrides) -> dict:
    row = dict(BASE_ROW, id_parcours=f"P-{i:04d}")
    row.update(overrides)
    return row


def identification(siret=SIRET, region=REGION, year=YEAR, email="bilan@operateur.fr") -> list[list]:
    return [["champ", "valeur"], ["siret", siret], ["code_region", region],
            ["annee", year], ["contact_email", email]]


MOYENS = [["champ", "valeur"], ["etp_conseillers", 12.5], ["nb_conseillers", 15],
          ["nb_sites_permanents", 6], ["nb_lieux_permanence", 20],
          ["heures_formation_conseillers", 350], ["heures_hors_temps_travail_hebdo", 6],
          ["delai_moyen_premier_rdv_jours", 8.5]]

FINANCES = [["poste", "montant_eur"], ["PERSONNEL", 450000], ["LOCAUX", 30000.5],
            ["FINANCEMENT_FRANCE_COMPETENCES", 500000]]


def beneficiaires(rows: list[dict], headers: list[str] = HEADERS) -> list[list]:
    return [list(headers)] + [[r.get(h) for h in headers] for r in rows]


def sheets(rows: list[dict] | None = None, *, ident=None, moyens=None, finances=None,
           headers: list[str] = HEADERS, benef_name: str = "Beneficiaires") -> dict[str, list[list]]:
    rows = [ben_row(1), ben_row(2, date_sortie=None, type_sortie=None, satisfaction=None)] if rows is None else rows
    return {
        "Identification": ident if ident is not None else identification(),
        benef_name: beneficiaires(rows, headers),
        "Moyens": moyens if moyens is not None else MOYENS,
        "Finances": finances if finances is not None else FINANCES,
    }


def write_xlsx(path: Path, content: dict[str, list[list]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in content.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(row=r, column=c, value=value)
    wb.save(path)
    return path


def xlsx_bytes(content: dict[str, list[list]]) -> bytes:
    buf = io.BytesIO()
    write_xlsx(buf, content)  # openpyxl accepts a file-like object
    return buf.getvalue()


def write_ods(path: Path, content: dict[str, list[list]]) -> Path:
    with pd.ExcelWriter(path, engine="odf") as writer:
        for name, rows in content.items():
            pd.DataFrame(rows, dtype=object).to_excel(writer, sheet_name=name, header=False, index=False)
    return path


def rezip(data: bytes, *, add: dict[str, bytes] | None = None, replace: dict[str, bytes] | None = None) -> bytes:
    """Copy of a zip with members added or replaced (to forge hostile files)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = (replace or {}).get(info.filename, src.read(info.filename))
            dst.writestr(info.filename, body)
        for name, body in (add or {}).items():
            dst.writestr(name, body)
    return out.getvalue()
