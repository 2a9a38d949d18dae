"""Parsing of the tender forms. The forms have variable shapes (lots, site rows,
criteria), so they are read from request.form here; CSRF is enforced globally.
Every parser returns (values, errors) with French messages naming the field."""
from __future__ import annotations

import math
from datetime import date, datetime

from platform_core.clock import paris_to_utc
from quality_framework import scoring
from quality_framework.reference import departements, regions

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class Errors(dict):
    def add(self, field: str, message: str) -> None:
        self.setdefault(field, message)


def number(form, name: str, label: str, errors: Errors, *, minimum: float = 0, strict: bool = False,
           integer: bool = False, required: bool = True):
    raw = (form.get(name) or "").strip().replace(",", ".").replace("\u202f", "").replace(" ", "")
    kind = "un nombre entier" if integer else "un nombre"
    bound = f"{'>' if strict else '≥'} {scoring.fmt(minimum)}"
    if not raw:
        if required:
            errors.add(name, f"{label} : champ obligatoire ({kind} {bound} attendu).")
        return None
    try:
        value = float(raw)
    except ValueError:
        errors.add(name, f"{label} : {kind} {bound} attendu, reçu « {raw} ».")
        return None
    if not math.isfinite(value) or (integer and value != int(value)) or value < minimum or (strict and value == minimum):
        errors.add(name, f"{label} : {kind} {bound} attendu, reçu « {raw} ».")
        return None
    return int(value) if integer else value


def text(form, name: str, label: str, errors: Errors, max_len: int = 300, required: bool = True) -> str:
    value = (form.get(name) or "").strip()
    if required and not value:
        errors.add(name, f"{label} : champ obligatoire.")
    elif len(value) > max_len:
        errors.add(name, f"{label} : {max_len} caractères au plus.")
    return value


def moment(form, name: str, label: str, errors: Errors) -> datetime | None:
    raw = (form.get(name) or "").strip()
    try:
        return paris_to_utc(datetime.strptime(raw, DATETIME_FORMAT))
    except ValueError:
        errors.add(name, f"{label} : date et heure attendues (AAAA-MM-JJTHH:MM), reçu « {raw} ».")
        return None


def day(form, name: str, label: str, errors: Errors) -> date | None:
    raw = (form.get(name) or "").strip()
    try:
        return datetime.strptime(raw, "%Y-%m-%d").date()
    except ValueError:
        errors.add(name, f"{label} : date attendue (AAAA-MM-JJ), reçu « {raw} ».")
        return None


def parse_tender(form) -> tuple[dict, Errors]:
    e = Errors()
    v: dict = {
        "reference": text(form, "reference", "Référence", e, 40),
        "title": text(form, "title", "Intitulé", e),
        "period_start": day(form, "period_start", "Début des contrats", e),
        "period_end": day(form, "period_end", "Fin des contrats", e),
        "publication_at": moment(form, "publication_at", "Publication", e),
        "questions_deadline": moment(form, "questions_deadline", "Date limite des questions", e),
        "submission_deadline": moment(form, "submission_deadline", "Date limite de dépôt", e),
        "opening_at": moment(form, "opening_at", "Ouverture des plis", e),
    }
    if v["period_start"] and v["period_end"] and v["period_end"] <= v["period_start"]:
        e.add("period_end", "Fin des contrats : doit être postérieure au début.")
    cal = ["publication_at", "questions_deadline", "submission_deadline", "opening_at"]
    if all(v[k] for k in cal):
        for a, b in zip(cal, cal[1:]):
            if v[b] < v[a]:
                e.add(b, "Calendrier : les dates doivent se suivre (publication ≤ questions ≤ dépôt ≤ ouverture).")
    # Manual criteria: one per line « CODE | libellé | poids ».
    manual, manual_weights = [], {}
    for i, line in enumerate((form.get("manual_criteria") or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3 or not parts[0] or not parts[1]:
            e.add("manual_criteria", f"Critères manuels, ligne {i} : format « CODE | libellé | poids » attendu.")
            continue
        code = parts[0].upper()
        try:
            weight = float(parts[2].replace(",", "."))
        except ValueError:
            e.add("manual_criteria", f"Critères manuels, ligne {i} : poids numérique attendu, reçu « {parts[2]} ».")
            continue
        manual.append({"code": code, "label": parts[1]})
        manual_weights[code] = weight
    weights = {}
    for code in scoring.AUTOMATIC_CRITERIA:
        w = number(form, f"weight_{code}", f"Poids du critère {code}", e)
        weights[code] = w if w is not None else 0
    weights.update(manual_weights)
    if not any(k.startswith("weight_") for k in e):
        for message in scoring.validate_weights(weights, [m["code"] for m in manual]):
            e.add("weights", "Critères et poids : " + message)
    v["weights"], v["manual_criteria"] = weights, manual
    params = {}
    for name in ("entrees_max_par_etp", "delai_cible_jours", "delai_max_jours", "heures_hors_temps_cible",
                 "experience_cible_annees", "formation_cible_heures"):
        params[name] = number(form, name, f"Paramètre {name}", e, strict=name != "delai_cible_jours")
    if None not in params.values():
        for message in scoring.validate_parameters(_Params(params)):
            e.add("parameters", message)
    v["parameters"] = params
    docs = [d.strip() for d in (form.get("mandatory_documents") or "").splitlines() if d.strip()]
    if not docs:
        e.add("mandatory_documents", "Pièces obligatoires : au moins une pièce attendue (une par ligne).")
    if len(set(docs)) != len(docs):
        e.add("mandatory_documents", "Pièces obligatoires : une pièce figure deux fois.")
    v["mandatory_documents"] = docs
    return v, e


class _Params:
    """Attribute view of a dict for scoring.validate_parameters (no __post_init__ raise)."""

    def __init__(self, values: dict):
        self.__dict__.update(values)


def parse_departement_weights(raw: str, lot_deps: list[str], field: str, e: Errors) -> dict | None:
    """« 35=2, 22=1 » → {"35": 2, "22": 1}; empty → None (equal weights)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    weights = {}
    for part in raw.replace(";", ",").split(","):
        if not part.strip():
            continue
        code, _, w = part.partition("=")
        code = code.strip().upper() if code.strip().upper() in ("2A", "2B") else code.strip()
        if code not in departements():
            e.add(field, f"Poids des départements : département inconnu « {code} ».")
            continue
        if code not in lot_deps:
            e.add(field, f"Poids des départements : le département {code} n'appartient pas au lot.")
            continue
        try:
            weights[code] = float(w.replace(",", "."))
        except ValueError:
            e.add(field, f"Poids des départements : nombre attendu pour {code}, reçu « {w.strip()} ».")
            continue
        if weights[code] < 0:
            e.add(field, f"Poids des départements : poids ≥ 0 attendu pour {code}.")
    for d in lot_deps:
        weights.setdefault(d, 0.0)
    if weights and sum(weights.values()) <= 0:
        e.add(field, "Poids des départements : la somme des poids doit être > 0.")
    return weights


def parse_region_codes(raw: str, field: str, e: Errors) -> list[str]:
    codes = [c.strip() for c in (raw or "").replace(";", ",").split(",") if c.strip()]
    if not codes:
        e.add(field, "Régions du lot : au moins un code région attendu.")
    for c in codes:
        if c not in regions():
            e.add(field, f"Régions du lot : code région inconnu « {c} ».")
    return codes


SITE_ROWS = 10


def parse_bid(form, lot_deps: list[str]) -> tuple[dict, bool, Errors]:
    """The operator's structured answers (BidAnswers keys)."""
    e = Errors()
    a: dict = {
        "capacite_annuelle": number(form, "capacite_annuelle", "Capacité annuelle (entrées par an)", e, integer=True),
        "etp_conseillers": number(form, "etp_conseillers", "ETP de conseillers", e),
        "delai_premier_rdv_jours": number(form, "delai_premier_rdv_jours", "Délai maximal du premier rendez-vous (jours)", e),
        "heures_hors_temps_travail_hebdo": number(form, "heures_hors_temps_travail_hebdo",
                                                  "Heures hors temps de travail par semaine", e),
        "nb_conseillers": number(form, "nb_conseillers", "Nombre de conseillers", e, integer=True),
        "nb_conseillers_qualifies": number(form, "nb_conseillers_qualifies", "Conseillers qualifiés", e, integer=True),
        "experience_moyenne_annees": number(form, "experience_moyenne_annees", "Expérience moyenne (années)", e),
        "heures_formation_par_etp": number(form, "heures_formation_par_etp", "Heures de formation par ETP", e),
        "prix_annuel_eur": number(form, "prix_annuel_eur", "Prix annuel (€)", e, strict=True),
        "analyse_des_pratiques": form.get("analyse_des_pratiques") == "oui",
    }
    if (a["nb_conseillers"] is not None and a["nb_conseillers_qualifies"] is not None
            and a["nb_conseillers_qualifies"] > a["nb_conseillers"]):
        e.add("nb_conseillers_qualifies", "Conseillers qualifiés : ne peut dépasser le nombre de conseillers.")
    channels = form.getlist("canaux_distance")
    if any(c not in scoring.REMOTE_CHANNELS for c in channels):
        e.add("canaux_distance", "Canaux à distance : valeur inconnue.")
    a["canaux_distance"] = [c for c in scoring.REMOTE_CHANNELS if c in channels]
    sites = []
    for i in range(SITE_ROWS):
        commune = (form.get(f"site_{i}_commune") or "").strip()
        dep = (form.get(f"site_{i}_departement") or "").strip().upper()
        kind = (form.get(f"site_{i}_type") or "").strip()
        if not commune and not dep:
            continue
        label = f"Site n° {i + 1}"
        if not commune:
            e.add(f"site_{i}_commune", f"{label} : commune obligatoire.")
        if dep not in departements():
            e.add(f"site_{i}_departement", f"{label} : département inconnu « {dep} » (code INSEE attendu, ex. 35, 2A, 971).")
        if kind not in scoring.SITE_TYPES:
            e.add(f"site_{i}_type", f"{label} : type PERMANENT ou PERMANENCE attendu.")
        sites.append({"commune": commune[:120], "departement": dep, "type": kind})
    a["sites"] = sites
    neutrality = form.get("neutralite") == "oui"
    return a, neutrality, e
