"""Realistic fictitious activity workbooks (real .xlsx files) for the demo and the
benchmark. Written from the spec's column list on purpose, independently of the
validator code, so the demo exercises the real upload path.

Profile shares follow seeds/003 (« profil des bénéficiaires »): 52 % women, 48 % aged
26-44 and 23 % aged 15-25, 7 % RQTH; the remaining mixes are plausible assumptions.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from openpyxl import Workbook

from quality_framework.reference import regions

HEADERS = ["id_parcours", "date_entree", "niveau_max", "sexe", "tranche_age", "rqth", "statut",
           "csp", "niveau_qualification", "taille_entreprise", "secteur_naf", "departement",
           "motif", "canal", "nb_entretiens", "duree_heures", "date_sortie", "type_sortie",
           "document_synthese", "satisfaction"]


@dataclass(frozen=True)
class Profile:
    """Shares that vary between operators; the alert profiles push one figure up."""

    niveau: tuple[float, float, float] = (0.22, 0.53, 0.25)
    exits: tuple[float, float, float, float] = (0.58, 0.10, 0.10, 0.22)  # PLAN, ABANDON, REORIENT, FIN_POINT
    short_share: float = 0.05          # niveau >= 2 paths with a single interview
    synthesis: float = 0.94            # document_synthese = O on closed niveau >= 2 paths
    satisfied: tuple[float, ...] = (0.01, 0.02, 0.05, 0.37, 0.55)  # answers 1..5


NORMAL = Profile()
HIGH_ABANDON = Profile(exits=(0.40, 0.38, 0.07, 0.15))
MANY_SHORT = Profile(niveau=(0.48, 0.40, 0.12), short_share=0.60, synthesis=0.80,
                     satisfied=(0.06, 0.08, 0.14, 0.37, 0.35))


def _pick(rng, codes, weights, n):
    w = np.asarray(weights, dtype=float)
    return rng.choice(np.asarray(codes, dtype=object), size=n, p=w / w.sum())


def generate_rows(year: int, region_code: str, n: int, seed: int, profile: Profile = NORMAL) -> list[list]:
    rng = np.random.default_rng(seed)
    start, end = date(year, 1, 1), date(year, 12, 31)
    # 85 % of the active paths start in N, the others in the second half of N-1
    in_year = rng.random(n) < 0.85
    offsets = np.where(in_year, rng.integers(0, 365, n), -rng.integers(1, 184, n))
    entries = [start + timedelta(days=int(d)) for d in offsets]
    niveau = _pick(rng, [1, 2, 3], profile.niveau, n)
    sexe = _pick(rng, ["F", "H"], [0.52, 0.48], n)
    age = _pick(rng, ["15-25", "26-44", "45-54", "55+"], [0.23, 0.48, 0.19, 0.10], n)
    rqth = _pick(rng, ["O", "N"], [0.07, 0.93], n)
    statut = _pick(rng, ["CDI", "CDD", "INTERIM", "ALTERNANCE", "INDEPENDANT", "AUTRE"],
                   [0.46, 0.16, 0.08, 0.05, 0.07, 0.18], n)
    csp = _pick(rng, ["1", "2", "3", "4", "5", "6"], [0.01, 0.04, 0.10, 0.20, 0.42, 0.23], n)
    qualif = _pick(rng, ["SANS", "3", "4", "5", "6", "7", "8"], [0.08, 0.16, 0.28, 0.20, 0.16, 0.10, 0.02], n)
    taille = _pick(rng, ["TPE", "PE", "ME", "ETI", "GE"], [0.22, 0.25, 0.20, 0.18, 0.15], n)
    naf = _pick(rng, list("CFGHIJKMNOPQRS"), [8, 6, 14, 6, 5, 3, 3, 5, 8, 7, 6, 18, 3, 8], n)
    deps = list(regions()[region_code].departements)
    dep_weights = np.linspace(2.0, 1.0, len(deps))
    departement = _pick(rng, deps, dep_weights, n)
    motif = _pick(rng, ["POINT", "PROJET", "COMPETENCES", "TRANSITION", "CREATION", "DEMISSION"],
                  [0.25, 0.35, 0.12, 0.12, 0.10, 0.06], n)
    canal = _pick(rng, ["PRESENTIEL", "TELEPHONE", "VISIO", "MIXTE"], [0.45, 0.15, 0.15, 0.25], n)
    closed = rng.random(n) < 0.66
    exit_type = _pick(rng, ["PLAN_ACTION", "ABANDON", "REORIENTATION", "FIN_POINT"], profile.exits, n)
    short = rng.random(n) < profile.short_share
    synth = rng.random(n) < profile.synthesis
    answered = rng.random(n) < 0.42
    score = _pick(rng, [1, 2, 3, 4, 5], profile.satisfied, n)
    rows = []
    for i in range(n):
        lvl = int(niveau[i])
        interviews = 1 if lvl == 1 else (1 if short[i] else int(rng.integers(2, 6 if lvl == 2 else 12)))
        hours = round(interviews * (0.75 if lvl == 1 else 1.5 if lvl == 2 else 2.0), 1)
        entry = entries[i]
        exit_date = exit_kind = sat = None
        if closed[i]:
            first = max(entry, start)
            exit_date = first + timedelta(days=int(rng.integers(0, max(1, (end - first).days + 1))))
            exit_kind = "FIN_POINT" if lvl == 1 and exit_type[i] == "PLAN_ACTION" else exit_type[i]
            sat = int(score[i]) if answered[i] else None
        independent = statut[i] == "INDEPENDANT"
        rows.append([
            f"P{year}-{seed % 100000:05d}-{i + 1:06d}", entry, lvl, sexe[i], age[i], rqth[i], statut[i],
            csp[i], qualif[i], "SO" if independent else taille[i], None if independent else naf[i],
            departement[i], motif[i], canal[i], interviews, hours, exit_date, exit_kind,
            "O" if (closed[i] and lvl >= 2 and synth[i]) else "N", sat,
        ])
    return rows


def generate_workbook(*, siret: str, region_code: str, year: int, n_rows: int, seed: int,
                      profile: Profile = NORMAL, email: str = "bilan@operateur-fictif.fr",
                      funding: float | None = None) -> bytes:
    """A complete valid workbook (Identification, Beneficiaires, Moyens, Finances).
    `funding`: the France compétences funding to declare (e.g. the contract's annual
    price); charges are then sized on it. Without it, both follow the team size."""
    rng = np.random.default_rng(seed + 7)
    wb = Workbook(write_only=True)
    ident = wb.create_sheet("Identification")
    ident.append(["champ", "valeur"])
    for row in (("siret", siret), ("code_region", region_code), ("annee", year), ("contact_email", email)):
        ident.append(list(row))
    benef = wb.create_sheet("Beneficiaires")
    benef.append(HEADERS)
    for row in generate_rows(year, region_code, n_rows, seed, profile):
        benef.append(row)
    counsellors = max(2, n_rows // 180)
    moyens = wb.create_sheet("Moyens")
    moyens.append(["champ", "valeur"])
    for row in (("etp_conseillers", round(counsellors * 0.85, 1)), ("nb_conseillers", counsellors),
                ("nb_sites_permanents", max(1, counsellors // 4)), ("nb_lieux_permanence", counsellors // 2),
                ("heures_formation_conseillers", counsellors * 21), ("heures_hors_temps_travail_hebdo", 4),
                ("delai_moyen_premier_rdv_jours", round(float(rng.uniform(4, 15)), 1))):
        moyens.append(list(row))
    staff = round(funding * 0.72, 2) if funding else counsellors * 52000.0
    declared = round(funding, 2) if funding else round(staff * 1.25, 2)
    fin = wb.create_sheet("Finances")
    fin.append(["poste", "montant_eur"])
    for row in (("PERSONNEL", staff), ("LOCAUX", round(staff * 0.12, 2)),
                ("SYSTEMES_INFORMATION", round(staff * 0.05, 2)), ("COMMUNICATION", round(staff * 0.02, 2)),
                ("FRAIS_STRUCTURE", round(staff * 0.10, 2)),
                ("FINANCEMENT_FRANCE_COMPETENCES", declared)):
        fin.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
