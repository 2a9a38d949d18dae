"""« Scoring simulation » (spec: tender.md): officers test a weighting on sample bids
without a tender in the database. The CLI and the officers' page call `simulate`.

Input validation collects every problem, each as a French message naming the field
(« offres[0].capacite_annuelle : nombre ≥ 0 attendu, reçu "abc" »), so the officer
can fix the whole file at once.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from quality_framework.reference import departements
from quality_framework.scoring import (
    AUTOMATIC_CRITERIA,
    DEFAULT_WEIGHTS,
    REMOTE_CHANNELS,
    SITE_TYPES,
    WEIGHT_TOTAL,
    Bid,
    BidAnswers,
    LotSpec,
    TenderParameters,
    fmt,
    rank_bids,
)

_TOP_KEYS = ("lot", "criteres", "parametres", "offres")
_LOT_KEYS = ("departements", "demande_annuelle", "poids_departements")
_SITE_KEYS = ("commune", "departement", "type")
_PARAM_NAMES = tuple(f.name for f in fields(TenderParameters))
_ANSWER_NAMES = tuple(f.name for f in fields(BidAnswers))
_BID_KEYS = ("id", "date_depot", *_ANSWER_NAMES, "admissible")
# Minimum per parameter, and whether the bound is strict: the formulas divide by
# the targets, and the delay window must not be empty.
_PARAM_BOUNDS = {
    "entrees_max_par_etp": (0, True),
    "delai_cible_jours": (0, False),
    "delai_max_jours": (0, True),
    "heures_hors_temps_cible": (0, True),
    "experience_cible_annees": (0, True),
    "formation_cible_heures": (0, True),
}
# Numeric answers: must be an integer? (prix_annuel_eur is checked on its own.)
_NUMERIC_ANSWERS = {
    "capacite_annuelle": False,
    "etp_conseillers": False,
    "delai_premier_rdv_jours": False,
    "heures_hors_temps_travail_hebdo": False,
    "nb_conseillers": True,
    "nb_conseillers_qualifies": True,
    "experience_moyenne_annees": False,
    "heures_formation_par_etp": False,
}


class SimulationInputError(ValueError):
    """Invalid simulation input; `errors` lists one French message per problem."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass
class SimulationInput:
    lot: LotSpec
    weights: dict[str, float]
    params: TenderParameters
    bids: list[Bid]


def _show(value: Any) -> str:
    """The received value as JSON, shortened: what the officer typed."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _is_number(value: Any) -> bool:
    # JSON true/false are not numbers; json.loads accepts NaN/Infinity, we do not.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class _Checker:
    """Collects French error messages, each prefixed by the field path."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path} : {message}")

    def wrong(self, path: str, expected: str, value: Any) -> None:
        self.error(path, f"{expected} attendu, reçu {_show(value)}")

    def unknown_keys(self, obj: dict, allowed: tuple[str, ...], prefix: str) -> None:
        for key in obj:
            if key not in allowed:
                self.error(f"{prefix}{key}", f"champ inconnu (champs possibles : {', '.join(allowed)})")

    def require(self, obj: dict, key: str, path: str, expected: str) -> bool:
        if key not in obj:
            self.error(path, f"champ obligatoire manquant (attendu : {expected})")
            return False
        return True

    def number(self, obj: dict, key: str, path: str, minimum: float = 0, strict: bool = False,
               integer: bool = False) -> float | None:
        """A required number ≥ minimum (> if strict), optionally a whole number."""
        kind = "entier" if integer else "nombre"
        expected = f"{kind} {'>' if strict else '≥'} {fmt(minimum)}"
        if not self.require(obj, key, path, expected):
            return None
        value = obj[key]
        if (not _is_number(value) or (integer and value != int(value))
                or value < minimum or (strict and value == minimum)):
            self.wrong(path, expected, value)
            return None
        return value

    def obj(self, value: Any, path: str) -> dict | None:
        if not isinstance(value, dict):
            self.wrong(path, "objet JSON", value)
            return None
        return value

    def departement(self, value: Any, path: str) -> str | None:
        if not isinstance(value, str):
            self.wrong(path, "code de département (texte, ex. \"35\", \"2A\")", value)
            return None
        if value not in departements():
            self.error(path, f"code de département inconnu, reçu {_show(value)}")
            return None
        return value


def parse_simulation_input(data: Any) -> SimulationInput:
    """Validate the simulation JSON (already decoded) and build the scoring objects.

    Raises SimulationInputError listing every problem in French.
    """
    check = _Checker()
    if check.obj(data, "entrée") is None:
        raise SimulationInputError(check.errors)
    check.unknown_keys(data, _TOP_KEYS, "")

    lot = _parse_lot(check, data)
    weights = _parse_weights(check, data)
    params = _parse_params(check, data)
    bids = _parse_bids(check, data)
    if check.errors:
        raise SimulationInputError(check.errors)
    return SimulationInput(lot, weights, params, bids)


def _parse_lot(check: _Checker, data: dict) -> LotSpec | None:
    if not check.require(data, "lot", "lot", "objet JSON"):
        return None
    lot = check.obj(data["lot"], "lot")
    if lot is None:
        return None
    before = len(check.errors)
    check.unknown_keys(lot, _LOT_KEYS, "lot.")

    codes: list[str] = []
    if check.require(lot, "departements", "lot.departements", "tableau de codes de département"):
        raw = lot["departements"]
        if not isinstance(raw, list) or not raw:
            check.wrong("lot.departements", "tableau non vide de codes de département", raw)
        else:
            for i, value in enumerate(raw):
                code = check.departement(value, f"lot.departements[{i}]")
                if code is not None and code in codes:
                    check.error(f"lot.departements[{i}]", f"département {_show(code)} en double")
                elif code is not None:
                    codes.append(code)
    demand = check.number(lot, "demande_annuelle", "lot.demande_annuelle", strict=True)

    weights = None
    if lot.get("poids_departements") is not None:
        weights = _parse_departement_weights(check, lot["poids_departements"], codes)
    if len(check.errors) > before:
        return None
    return LotSpec(codes, demand, weights)


def _parse_departement_weights(check: _Checker, raw: Any, codes: list[str]) -> dict[str, float] | None:
    path = "lot.poids_departements"
    if check.obj(raw, path) is None:
        return None
    weights: dict[str, float] = {}
    for code, weight in raw.items():
        if code not in codes:
            check.error(f"{path}.{code}", "département absent de lot.departements")
        elif not _is_number(weight) or weight < 0:
            check.wrong(f"{path}.{code}", "nombre ≥ 0", weight)
        else:
            weights[code] = weight
    # A partial list is ambiguous (0 or default?): ask for every département.
    for code in codes:
        if code not in raw:
            check.error(path, f"poids manquant pour le département {_show(code)}")
    if len(weights) == len(codes) and codes and sum(weights.values()) <= 0:
        check.error(path, "la somme des poids doit être > 0")
    return weights


def _parse_weights(check: _Checker, data: dict) -> dict[str, float]:
    raw = data.get("criteres")
    if raw is None:
        return dict(DEFAULT_WEIGHTS)
    if check.obj(raw, "criteres") is None:
        return {}
    weights: dict[str, float] = {}
    for name, weight in raw.items():
        if name not in AUTOMATIC_CRITERIA:
            check.error(f"criteres.{name}",
                        f"critère inconnu (critères possibles : {', '.join(AUTOMATIC_CRITERIA)})")
        elif not _is_number(weight) or weight < 0:
            check.wrong(f"criteres.{name}", "poids ≥ 0", weight)
        else:
            weights[name] = weight
    if len(weights) == len(raw):
        total = sum(weights.values())
        if abs(total - WEIGHT_TOTAL) > 1e-9:
            check.error("criteres", f"la somme des poids doit être égale à {WEIGHT_TOTAL}, reçu {fmt(total)}")
    # An automatic criterion left out of `criteres` weighs 0.
    return {name: weights.get(name, 0) for name in AUTOMATIC_CRITERIA}


def _parse_params(check: _Checker, data: dict) -> TenderParameters | None:
    raw = data.get("parametres")
    if raw is None:
        return TenderParameters()
    if check.obj(raw, "parametres") is None:
        return None
    check.unknown_keys(raw, _PARAM_NAMES, "parametres.")
    values = {f.name: f.default for f in fields(TenderParameters)}
    ok = True
    for name, (minimum, strict) in _PARAM_BOUNDS.items():
        if name in raw:
            value = check.number(raw, name, f"parametres.{name}", minimum, strict)
            ok = ok and value is not None
            values[name] = value
    if ok and values["delai_max_jours"] <= values["delai_cible_jours"]:
        check.wrong("parametres.delai_max_jours",
                    f"nombre > delai_cible_jours ({fmt(values['delai_cible_jours'])})",
                    values["delai_max_jours"])
        ok = False
    return TenderParameters(**values) if ok else None


def _parse_bids(check: _Checker, data: dict) -> list[Bid]:
    if not check.require(data, "offres", "offres", "tableau d'offres"):
        return []
    raw = data["offres"]
    if not isinstance(raw, list) or not raw:
        check.wrong("offres", "tableau non vide d'offres", raw)
        return []
    bids: list[Bid] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        path = f"offres[{i}]"
        offer = check.obj(item, path)
        if offer is None:
            continue
        bid_id = offer.get("id")
        if isinstance(bid_id, str) and bid_id in seen:
            check.error(f"{path}.id", f"identifiant {_show(bid_id)} déjà utilisé par offres[{seen[bid_id]}]")
        elif isinstance(bid_id, str) and bid_id.strip():
            seen[bid_id] = i
        bid = _parse_bid(check, offer, path)
        if bid is not None:
            bids.append(bid)
    return bids


def _parse_bid(check: _Checker, offer: dict, path: str) -> Bid | None:
    before = len(check.errors)
    check.unknown_keys(offer, _BID_KEYS, f"{path}.")

    if check.require(offer, "id", f"{path}.id", "identifiant (texte non vide)"):
        if not isinstance(offer["id"], str) or not offer["id"].strip():
            check.wrong(f"{path}.id", "identifiant (texte non vide)", offer["id"])

    submitted_at = None
    date_expected = "horodatage ISO 8601 (ex. \"2023-04-27T10:15:00\")"
    if check.require(offer, "date_depot", f"{path}.date_depot", date_expected):
        try:
            submitted_at = datetime.fromisoformat(offer["date_depot"])
        except (TypeError, ValueError):
            check.wrong(f"{path}.date_depot", date_expected, offer["date_depot"])

    numbers = {
        name: check.number(offer, name, f"{path}.{name}", integer=integer)
        for name, integer in _NUMERIC_ANSWERS.items()
    }
    n, q = numbers["nb_conseillers"], numbers["nb_conseillers_qualifies"]
    if n is not None and q is not None and q > n:
        check.error(f"{path}.nb_conseillers_qualifies",
                    f"ne peut dépasser nb_conseillers ({fmt(n)}), reçu {_show(q)}")

    if check.require(offer, "prix_annuel_eur", f"{path}.prix_annuel_eur", "nombre > 0"):
        price = offer["prix_annuel_eur"]
        if not _is_number(price):
            check.wrong(f"{path}.prix_annuel_eur", "nombre > 0", price)
        elif price <= 0:
            check.error(f"{path}.prix_annuel_eur", f"prix_annuel_eur doit être > 0, reçu {_show(price)}")

    sites = _parse_sites(check, offer, f"{path}.sites")
    channels = _parse_channels(check, offer, f"{path}.canaux_distance")
    for name, required in (("analyse_des_pratiques", True), ("admissible", False)):
        if name in offer or required:
            if check.require(offer, name, f"{path}.{name}", "true ou false"):
                if not isinstance(offer[name], bool):
                    check.wrong(f"{path}.{name}", "true ou false", offer[name])

    if len(check.errors) > before:
        return None
    answers = BidAnswers(
        sites=sites,
        canaux_distance=channels,
        analyse_des_pratiques=offer["analyse_des_pratiques"],
        prix_annuel_eur=offer["prix_annuel_eur"],
        **numbers,
    )
    return Bid(offer["id"], answers, submitted_at, offer.get("admissible", True))


def _parse_sites(check: _Checker, offer: dict, path: str) -> list[dict[str, str]]:
    if not check.require(offer, "sites", path, "tableau de sites"):
        return []
    raw = offer["sites"]
    if not isinstance(raw, list):
        check.wrong(path, "tableau de sites", raw)
        return []
    sites = []
    for i, item in enumerate(raw):
        site_path = f"{path}[{i}]"
        site = check.obj(item, site_path)
        if site is None:
            continue
        check.unknown_keys(site, _SITE_KEYS, f"{site_path}.")
        if check.require(site, "commune", f"{site_path}.commune", "nom de commune"):
            if not isinstance(site["commune"], str) or not site["commune"].strip():
                check.wrong(f"{site_path}.commune", "nom de commune (texte non vide)", site["commune"])
        if check.require(site, "departement", f"{site_path}.departement", "code de département"):
            check.departement(site["departement"], f"{site_path}.departement")
        if check.require(site, "type", f"{site_path}.type", " ou ".join(SITE_TYPES)):
            if site["type"] not in SITE_TYPES:
                check.wrong(f"{site_path}.type", " ou ".join(SITE_TYPES), site["type"])
        sites.append(dict(site))
    return sites


def _parse_channels(check: _Checker, offer: dict, path: str) -> list[str]:
    expected = f"tableau de canaux parmi {', '.join(REMOTE_CHANNELS)}"
    if not check.require(offer, "canaux_distance", path, expected):
        return []
    raw = offer["canaux_distance"]
    if not isinstance(raw, list):
        check.wrong(path, expected, raw)
        return []
    for i, channel in enumerate(raw):
        if channel not in REMOTE_CHANNELS:
            check.wrong(f"{path}[{i}]", f"canal parmi {', '.join(REMOTE_CHANNELS)}", channel)
    return list(raw)


def simulate(data: Any) -> list[dict[str, Any]]:
    """Score and rank the bids of the simulation input, in the spec's output format.

    One object per bid in rank order: {"id", "admissible", "rang", "sous_scores",
    "points", "total"}, numbers unrounded. An inadmissible bid comes last with
    "rang", "sous_scores", "points" and "total" null (it is not scored).
    Raises SimulationInputError (French messages) on invalid input.
    """
    parsed = parse_simulation_input(data)
    ranked = rank_bids(parsed.bids, parsed.lot, parsed.weights, parsed.params)
    return [
        {
            "id": r.bid.id,
            "admissible": r.bid.admissible,
            "rang": r.rank,
            "sous_scores": dict(r.score.sous_scores) if r.score else None,
            "points": dict(r.score.points) if r.score else None,
            "total": r.score.total if r.score else None,
        }
        for r in ranked
    ]
