"""Tender scoring (spec: tender.md, « Default criteria and formulas »).

Pure functions over plain data: the views, the exports, the simulation CLI and the
tests all call these, so each formula exists exactly once. Every automatic score can
be explained (inputs, formula in French, value) because the UI must show all three.
"""
from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

AUTOMATIC_CRITERIA: tuple[str, ...] = ("CAPACITE", "COUVERTURE", "PROFESSIONNALISATION", "PRIX")
PRICE_CRITERION = "PRIX"
DEFAULT_WEIGHTS: dict[str, float] = {
    "CAPACITE": 30,
    "COUVERTURE": 30,
    "PROFESSIONNALISATION": 25,
    "PRIX": 15,
}
REMOTE_CHANNELS: tuple[str, ...] = ("TELEPHONE", "VISIO", "WEB")
SITE_TYPES: tuple[str, ...] = ("PERMANENT", "PERMANENCE")
SUB_SCORES: tuple[str, ...] = (
    "s_volume", "s_delai", "s_presence", "s_distance", "s_horaires",
    "s_qualif", "s_experience", "s_formation", "s_supervision", "s_prix",
)
MANUAL_MARK_MAX = 4
WEIGHT_TOTAL = 100
# Weights are user-entered decimals: tolerate float noise when checking the sum.
_WEIGHT_SUM_TOLERANCE = 1e-9
# Ties are decided on totals rounded far below the displayed precision, so that
# float noise (1e-15) never decides a rank while real differences always do.
_TIE_DIGITS = 9
# Submission times without a time zone are legal French time.
_LOCAL_TZ = ZoneInfo("Europe/Paris")

# Combination of sub-scores per automatic criterion (PRIX is s_prix alone).
COMBINATIONS: dict[str, tuple[tuple[float, str], ...]] = {
    "CAPACITE": ((0.7, "s_volume"), (0.3, "s_delai")),
    "COUVERTURE": ((0.6, "s_presence"), (0.2, "s_distance"), (0.2, "s_horaires")),
    "PROFESSIONNALISATION": (
        (0.4, "s_qualif"), (0.2, "s_experience"), (0.2, "s_formation"), (0.2, "s_supervision"),
    ),
    "PRIX": ((1.0, "s_prix"),),
}


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class TenderParameters:
    """Tender parameters used by the formulas (defaults from the spec)."""

    entrees_max_par_etp: float = 220
    delai_cible_jours: float = 5
    delai_max_jours: float = 30
    heures_hors_temps_cible: float = 8
    experience_cible_annees: float = 5
    formation_cible_heures: float = 35

    def __post_init__(self) -> None:
        errors = validate_parameters(self)
        if errors:
            raise ValueError(" ".join(errors))


@dataclass(frozen=True)
class LotSpec:
    """What the formulas need of a lot: its départements, demand D and weights w_d."""

    departements: list[str]
    demande_annuelle: float
    poids_departements: dict[str, float] | None = None

    def __post_init__(self) -> None:
        if not self.departements:
            raise ValueError("Le lot doit comporter au moins un département.")
        if not self.demande_annuelle > 0:
            raise ValueError("La demande annuelle du lot doit être > 0.")
        weights = self.weights()
        if any(w < 0 for w in weights.values()) or not sum(weights.values()) > 0:
            raise ValueError("Les poids des départements doivent être ≥ 0 et de somme > 0.")

    def weights(self) -> dict[str, float]:
        """w_d per lot département; equal weights by default, 0 for a département
        the explicit weights leave out."""
        if self.poids_departements is None:
            return {d: 1.0 for d in self.departements}
        return {d: float(self.poids_departements.get(d, 0)) for d in self.departements}


@dataclass
class BidAnswers:
    """The structured answers of a bid used by the automatic criteria."""

    capacite_annuelle: float
    etp_conseillers: float
    delai_premier_rdv_jours: float
    sites: list[dict[str, str]]  # {"commune", "departement", "type": PERMANENT|PERMANENCE}
    canaux_distance: list[str]  # among REMOTE_CHANNELS
    heures_hors_temps_travail_hebdo: float
    nb_conseillers: int
    nb_conseillers_qualifies: int
    experience_moyenne_annees: float
    heures_formation_par_etp: float
    analyse_des_pratiques: bool
    prix_annuel_eur: float


@dataclass(frozen=True)
class ManualScore:
    """Evaluators' 0–4 marks on one manual criterion, and the moderator's mark if set."""

    marks: Sequence[float] = ()
    moderated_mark: float | None = None

    def __post_init__(self) -> None:
        for mark in [*self.marks, *([] if self.moderated_mark is None else [self.moderated_mark])]:
            if not 0 <= mark <= MANUAL_MARK_MAX:
                raise ValueError(f"Une note doit être comprise entre 0 et {MANUAL_MARK_MAX} (reçu {mark}).")


@dataclass
class Bid:
    """A bid as ranked within its lot: answers, submission time and the (confirmed)
    admissibility verdict; manual marks keyed by manual criterion."""

    id: str
    answers: BidAnswers
    submitted_at: datetime
    admissible: bool = True
    manual: Mapping[str, ManualScore] = field(default_factory=dict)


@dataclass(frozen=True)
class Explanation:
    """What the UI shows for a score: its inputs, the formula filled in, the value."""

    inputs: dict[str, Any]
    formula: str
    value: float


@dataclass
class BidScore:
    sous_scores: dict[str, float]  # SUB_SCORES → [0, 1]
    points: dict[str, float]  # automatic criterion → weight × combination
    manual_points: dict[str, float]  # manual criterion → weight × mark / 4
    total: float  # full precision; display with two decimals
    non_price_total: float
    explanations: dict[str, Explanation]  # by sub-score, criterion and manual criterion


@dataclass
class RankedBid:
    bid: Bid
    rank: int | None  # None when inadmissible
    score: BidScore | None  # None when inadmissible (not scored)


# --------------------------------------------------------------------------- validation


def _is_number(value: Any) -> bool:
    # bool is an int subclass but never a meaningful weight or quantity.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def validate_parameters(params: TenderParameters) -> list[str]:
    """French error messages for unusable tender parameters (empty list = valid)."""
    errors = []
    for name in ("entrees_max_par_etp", "heures_hors_temps_cible",
                 "experience_cible_annees", "formation_cible_heures"):
        value = getattr(params, name)
        if not _is_number(value) or value <= 0:
            errors.append(f"Le paramètre {name} doit être un nombre > 0 (reçu {value!r}).")
    target, maximum = params.delai_cible_jours, params.delai_max_jours
    if not _is_number(target) or target < 0:
        errors.append(f"Le paramètre delai_cible_jours doit être un nombre ≥ 0 (reçu {target!r}).")
    elif not _is_number(maximum) or maximum <= target:
        errors.append(
            f"Le paramètre delai_max_jours doit être un nombre > delai_cible_jours (reçu {maximum!r})."
        )
    return errors


DEFAULT_PARAMETERS = TenderParameters()


def validate_weights(weights: Mapping[str, Any], manual_criteria: Collection[str] = ()) -> list[str]:
    """French error messages for a weighting (empty list = valid).

    `weights` maps criterion codes to weights: the automatic criteria (a missing one
    weighs 0) and the tender's manual criteria, declared in `manual_criteria`.
    Each weight is ≥ 0 and automatic + manual weights sum to 100.
    """
    errors = []
    for name in manual_criteria:
        if name in AUTOMATIC_CRITERIA:
            errors.append(f"Le critère manuel « {name} » porte le nom d'un critère automatique.")
        elif name not in weights:
            errors.append(f"Le critère manuel « {name} » n'a pas de poids.")
    valid_sum = True
    for name, weight in weights.items():
        if name not in AUTOMATIC_CRITERIA and name not in manual_criteria:
            errors.append(
                f"Critère inconnu « {name} » (critères automatiques : {', '.join(AUTOMATIC_CRITERIA)})."
            )
        if not _is_number(weight) or weight < 0:
            errors.append(f"Le poids du critère « {name} » doit être un nombre ≥ 0 (reçu {weight!r}).")
            valid_sum = False
    if valid_sum:
        total = sum(weights.values())
        if abs(total - WEIGHT_TOTAL) > _WEIGHT_SUM_TOLERANCE:
            errors.append(
                f"La somme des poids doit être égale à {WEIGHT_TOTAL} (actuellement {fmt(total)})."
            )
    return errors


# --------------------------------------------------------------------------- sub-scores


def credible_capacity(capacity: float, fte: float, max_entries_per_fte: float = 220) -> float:
    """C* = min(C, F × 220): capacity not backed by counsellors is not credible."""
    return min(capacity, fte * max_entries_per_fte)


def s_volume(capacity: float, fte: float, demand: float, max_entries_per_fte: float = 220) -> float:
    """s_volume = min(C* / D, 1)."""
    return min(credible_capacity(capacity, fte, max_entries_per_fte) / demand, 1.0)


def s_delai(days: float, target_days: float = 5, max_days: float = 30) -> float:
    """1 if J ≤ target, 0 if J ≥ max, linear in between."""
    if days <= target_days:
        return 1.0
    if days >= max_days:
        return 0.0
    return (max_days - days) / (max_days - target_days)


def covered_departements(sites: Sequence[Mapping[str, Any]], lot: LotSpec) -> list[str]:
    """Lot départements holding at least one site, in lot order (others don't count)."""
    with_site = {site.get("departement") for site in sites}
    return [d for d in dict.fromkeys(lot.departements) if d in with_site]


def s_presence(sites: Sequence[Mapping[str, Any]], lot: LotSpec) -> float:
    """Σ w_d over lot départements with at least one site / Σ w_d."""
    weights = lot.weights()
    covered = covered_departements(sites, lot)
    return sum(weights[d] for d in covered) / sum(weights.values())


def s_distance(channels: Sequence[str]) -> float:
    """Distinct known remote channels / 3 (a channel listed twice counts once)."""
    return len(set(channels) & set(REMOTE_CHANNELS)) / len(REMOTE_CHANNELS)


def s_horaires(hours: float, target_hours: float = 8) -> float:
    """min(H / 8, 1)."""
    return min(hours / target_hours, 1.0)


def s_qualif(qualified: int, counsellors: int) -> float:
    """Q / N. With N = 0 there is no counsellor to be qualified: 0, not a division
    error. Capped at 1 in case Q > N slipped through input validation."""
    if counsellors <= 0:
        return 0.0
    return min(qualified / counsellors, 1.0)


def s_experience(years: float, target_years: float = 5) -> float:
    """min(E / 5, 1)."""
    return min(years / target_years, 1.0)


def s_formation(hours: float, target_hours: float = 35) -> float:
    """min(T / 35, 1)."""
    return min(hours / target_hours, 1.0)


def s_supervision(practice_analysis: bool) -> float:
    """1 if « analyse des pratiques » else 0."""
    return 1.0 if practice_analysis else 0.0


def s_prix(price: float, min_price: float) -> float:
    """P_min / P, P_min the lowest price among the lot's admissible bids."""
    if not price > 0:
        raise ValueError("Le prix annuel doit être > 0.")
    return min_price / price


def manual_points(weight: float, score: ManualScore | None) -> float:
    """weight × mean / 4, or weight × moderated mark / 4 when a moderator set it.
    A criterion nobody has marked yet earns 0 points."""
    mark = _manual_mark(score)
    return 0.0 if mark is None else weight * mark / MANUAL_MARK_MAX


def _manual_mark(score: ManualScore | None) -> float | None:
    if score is None:
        return None
    if score.moderated_mark is not None:
        return score.moderated_mark
    if not score.marks:
        return None
    return sum(score.marks) / len(score.marks)


# --------------------------------------------------------------------------- explanations


def fmt(x: float) -> str:
    """French display of a number in formulas: decimal comma, at most 6 decimals."""
    if isinstance(x, bool):
        return "oui" if x else "non"
    text = f"{x:.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text.replace(".", ",")


def _capped_ratio(name: str, letter: str, field: str, x: float, target_field: str, target: float,
                  sub_score) -> Explanation:
    """Explanation of a sub-score of the form min(X / target, 1)."""
    value = sub_score(x, target)
    return Explanation(
        {field: x, target_field: target},
        f"{name} = min({letter} / {fmt(target)}, 1) = min({fmt(x)} / {fmt(target)}, 1) = {fmt(value)}",
        value,
    )


def explain_bid(
    answers: BidAnswers,
    lot: LotSpec,
    params: TenderParameters = DEFAULT_PARAMETERS,
    min_price: float | None = None,
) -> dict[str, Explanation]:
    """Inputs, filled-in French formula and value of every sub-score.

    s_prix is included only when `min_price` (P_min of the lot) is given.
    """
    a, p = answers, params
    out: dict[str, Explanation] = {}

    c_star = credible_capacity(a.capacite_annuelle, a.etp_conseillers, p.entrees_max_par_etp)
    value = s_volume(a.capacite_annuelle, a.etp_conseillers, lot.demande_annuelle, p.entrees_max_par_etp)
    out["s_volume"] = Explanation(
        {"capacite_annuelle": a.capacite_annuelle, "etp_conseillers": a.etp_conseillers,
         "demande_annuelle": lot.demande_annuelle, "entrees_max_par_etp": p.entrees_max_par_etp},
        f"C* = min(C, F × {fmt(p.entrees_max_par_etp)}) = min({fmt(a.capacite_annuelle)}, "
        f"{fmt(a.etp_conseillers)} × {fmt(p.entrees_max_par_etp)}) = {fmt(c_star)} ; "
        f"s_volume = min(C* / D, 1) = min({fmt(c_star)} / {fmt(lot.demande_annuelle)}, 1) = {fmt(value)}",
        value,
    )

    j, j0, j1 = a.delai_premier_rdv_jours, p.delai_cible_jours, p.delai_max_jours
    value = s_delai(j, j0, j1)
    rule = f"s_delai = 1 si J ≤ {fmt(j0)}, 0 si J ≥ {fmt(j1)}, sinon ({fmt(j1)} − J) / ({fmt(j1)} − {fmt(j0)})"
    if j <= j0:
        applied = f"J = {fmt(j)} ≤ {fmt(j0)} donc s_delai = 1"
    elif j >= j1:
        applied = f"J = {fmt(j)} ≥ {fmt(j1)} donc s_delai = 0"
    else:
        applied = f"s_delai = ({fmt(j1)} − {fmt(j)}) / ({fmt(j1)} − {fmt(j0)}) = {fmt(value)}"
    out["s_delai"] = Explanation(
        {"delai_premier_rdv_jours": j, "delai_cible_jours": j0, "delai_max_jours": j1},
        f"{rule} ; {applied}",
        value,
    )

    weights = lot.weights()
    covered = covered_departements(a.sites, lot)
    value = s_presence(a.sites, lot)
    covered_sum = sum(weights[d] for d in covered)
    out["s_presence"] = Explanation(
        {"departements_du_lot": list(dict.fromkeys(lot.departements)), "poids_departements": weights,
         "departements_avec_site": covered, "sites": list(a.sites)},
        f"s_presence = Σ w_d des départements du lot ayant au moins un site "
        f"({', '.join(covered) or 'aucun'}) / Σ w_d = {fmt(covered_sum)} / "
        f"{fmt(sum(weights.values()))} = {fmt(value)}",
        value,
    )

    distinct = [c for c in REMOTE_CHANNELS if c in set(a.canaux_distance)]
    value = s_distance(a.canaux_distance)
    out["s_distance"] = Explanation(
        {"canaux_distance": list(a.canaux_distance)},
        f"s_distance = nombre de canaux distincts ({', '.join(distinct) or 'aucun'}) / "
        f"{len(REMOTE_CHANNELS)} = {len(distinct)} / {len(REMOTE_CHANNELS)} = {fmt(value)}",
        value,
    )

    out["s_horaires"] = _capped_ratio("s_horaires", "H", "heures_hors_temps_travail_hebdo",
                                      a.heures_hors_temps_travail_hebdo, "heures_hors_temps_cible",
                                      p.heures_hors_temps_cible, s_horaires)

    q, n = a.nb_conseillers_qualifies, a.nb_conseillers
    value = s_qualif(q, n)
    formula = (f"s_qualif = Q / N = {fmt(q)} / {fmt(n)} = {fmt(value)}" if n > 0
               else "s_qualif = 0 car N = 0 (aucun conseiller déclaré)")
    out["s_qualif"] = Explanation(
        {"nb_conseillers_qualifies": q, "nb_conseillers": n}, formula, value
    )

    out["s_experience"] = _capped_ratio("s_experience", "E", "experience_moyenne_annees",
                                        a.experience_moyenne_annees, "experience_cible_annees",
                                        p.experience_cible_annees, s_experience)
    out["s_formation"] = _capped_ratio("s_formation", "T", "heures_formation_par_etp",
                                       a.heures_formation_par_etp, "formation_cible_heures",
                                       p.formation_cible_heures, s_formation)

    value = s_supervision(a.analyse_des_pratiques)
    out["s_supervision"] = Explanation(
        {"analyse_des_pratiques": a.analyse_des_pratiques},
        f"s_supervision = 1 si analyse des pratiques, sinon 0 ; analyse des pratiques : "
        f"{fmt(a.analyse_des_pratiques)} donc s_supervision = {fmt(value)}",
        value,
    )

    if min_price is not None:
        value = s_prix(a.prix_annuel_eur, min_price)
        out["s_prix"] = Explanation(
            {"prix_annuel_eur": a.prix_annuel_eur, "prix_min_eur": min_price},
            f"s_prix = P_min / P = {fmt(min_price)} / {fmt(a.prix_annuel_eur)} = {fmt(value)}",
            value,
        )
    return out


# --------------------------------------------------------------------------- scoring


def score_bid(
    answers: BidAnswers,
    lot: LotSpec,
    min_price: float,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
    params: TenderParameters = DEFAULT_PARAMETERS,
    manual: Mapping[str, ManualScore] | None = None,
) -> BidScore:
    """Score one admissible bid.

    `min_price` is P_min, the lowest price among the lot's admissible bids.
    `weights` holds automatic criteria (missing = 0) and manual criteria (any other
    code); `manual` the marks per manual criterion (missing = not marked yet, 0 point).
    """
    manual = manual or {}
    stray = set(manual) - (set(weights) - set(AUTOMATIC_CRITERIA))
    if stray:
        raise ValueError(f"Notes pour des critères sans poids : {', '.join(sorted(stray))}.")

    explanations = explain_bid(answers, lot, params, min_price)
    sub = {name: explanations[name].value for name in SUB_SCORES}

    points: dict[str, float] = {}
    for criterion in AUTOMATIC_CRITERIA:
        weight = weights.get(criterion, 0)
        terms = COMBINATIONS[criterion]
        combination = sum(coef * sub[name] for coef, name in terms)
        points[criterion] = weight * combination
        if criterion == PRICE_CRITERION:
            formula = (f"{criterion} = {fmt(weight)} × P_min / P = {fmt(weight)} × "
                       f"{fmt(sub['s_prix'])} = {fmt(points[criterion])}")
        else:
            symbolic = " + ".join(f"{fmt(c)} × {n}" for c, n in terms)
            filled = " + ".join(f"{fmt(c)} × {fmt(sub[n])}" for c, n in terms)
            formula = (f"{criterion} = {fmt(weight)} × ({symbolic}) = {fmt(weight)} × ({filled}) "
                       f"= {fmt(points[criterion])}")
        explanations[criterion] = Explanation(
            {"poids": weight, **{n: sub[n] for _, n in terms}}, formula, points[criterion]
        )

    manual_pts: dict[str, float] = {}
    for criterion, weight in weights.items():
        if criterion in AUTOMATIC_CRITERIA:
            continue
        score = manual.get(criterion)
        manual_pts[criterion] = manual_points(weight, score)
        explanations[criterion] = _explain_manual(criterion, weight, score, manual_pts[criterion])

    non_price = sum(v for k, v in points.items() if k != PRICE_CRITERION) + sum(manual_pts.values())
    return BidScore(
        sous_scores=sub,
        points=points,
        manual_points=manual_pts,
        total=non_price + points[PRICE_CRITERION],
        non_price_total=non_price,
        explanations=explanations,
    )


def _explain_manual(criterion: str, weight: float, score: ManualScore | None, value: float) -> Explanation:
    marks = list(score.marks) if score else []
    moderated = score.moderated_mark if score else None
    inputs = {"poids": weight, "notes": marks, "note_moderee": moderated}
    if moderated is not None:
        formula = (f"{criterion} = poids × note modérée / 4 = {fmt(weight)} × {fmt(moderated)} / 4 "
                   f"= {fmt(value)}")
    elif marks:
        mean = sum(marks) / len(marks)
        formula = (f"{criterion} = poids × moyenne des notes / 4 = {fmt(weight)} × "
                   f"moyenne({'; '.join(fmt(m) for m in marks)}) / 4 = {fmt(weight)} × {fmt(mean)} / 4 "
                   f"= {fmt(value)}")
    else:
        formula = f"{criterion} : aucune note pour l'instant, 0 point"
    return Explanation(inputs, formula, value)


def _submission_key(moment: datetime) -> float:
    # Naive times are French legal time, so naive and aware times compare correctly.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_LOCAL_TZ)
    return moment.timestamp()


def rank_bids(
    bids: Sequence[Bid],
    lot: LotSpec,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
    params: TenderParameters = DEFAULT_PARAMETERS,
) -> list[RankedBid]:
    """Score and rank the bids of one lot.

    Order: total descending, then higher non-price total, then earlier submission;
    a complete tie keeps the input order. Inadmissible bids are not scored, do not
    count for P_min, get rank None and come last in input order.
    """
    ids = [b.id for b in bids]
    if len(set(ids)) != len(ids):
        raise ValueError("Deux offres portent le même identifiant.")
    admissible = [b for b in bids if b.admissible]
    ranked: list[RankedBid] = []
    if admissible:
        min_price = min(b.answers.prix_annuel_eur for b in admissible)
        scored = [(b, score_bid(b.answers, lot, min_price, weights, params, b.manual)) for b in admissible]
        scored.sort(key=lambda item: (
            -round(item[1].total, _TIE_DIGITS),
            -round(item[1].non_price_total, _TIE_DIGITS),
            _submission_key(item[0].submitted_at),
        ))
        ranked = [RankedBid(b, rank, s) for rank, (b, s) in enumerate(scored, start=1)]
    return ranked + [RankedBid(b, None, None) for b in bids if not b.admissible]


# --------------------------------------------------------------------------- admissibility


def automatic_admissibility(
    bid: BidAnswers,
    lot: LotSpec,
    documents_present: set[str],
    mandatory_documents: list[str],
    neutrality_declared: bool,
) -> list[tuple[str, str]]:
    """Automatic admissibility verdict: (code, French reason) per failed rule.

    Empty list = admissible. The officer confirms or overrides it with a reason.
    """
    problems: list[tuple[str, str]] = []
    for document in mandatory_documents:
        if document not in documents_present:
            problems.append(("MISSING_DOCUMENT", f"Pièce obligatoire manquante : {document}."))
    if not neutrality_declared:
        problems.append((
            "NO_NEUTRALITY_DECLARATION",
            "La déclaration de neutralité (absence d'activité de formation) n'a pas été faite.",
        ))
    if not (_is_number(bid.prix_annuel_eur) and bid.prix_annuel_eur > 0):
        problems.append(("INVALID_PRICE", "Le prix annuel doit être supérieur à 0 €."))
    if not covered_departements(bid.sites, lot):
        problems.append((
            "NO_SITE_IN_LOT",
            "Aucun site n'est implanté dans les départements du lot "
            f"({', '.join(dict.fromkeys(lot.departements))}).",
        ))
    return problems
