"""Tender scoring: every expected value is computed by hand from tender.md."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from quality_framework.scoring import (
    DEFAULT_WEIGHTS,
    SUB_SCORES,
    Bid,
    BidAnswers,
    LotSpec,
    ManualScore,
    TenderParameters,
    automatic_admissibility,
    credible_capacity,
    explain_bid,
    manual_points,
    rank_bids,
    s_delai,
    s_distance,
    s_experience,
    s_formation,
    s_horaires,
    s_presence,
    s_prix,
    s_qualif,
    s_supervision,
    s_volume,
    score_bid,
    validate_weights,
)

approx = lambda x: pytest.approx(x, rel=1e-12, abs=1e-12)  # noqa: E731

# The spec's example lot: Ille-et-Vilaine weighs twice Côtes-d'Armor.
LOT = LotSpec(["35", "22"], 4000, {"35": 2, "22": 1})


def b1(**changes) -> BidAnswers:
    """The spec's example bid B1."""
    answers = BidAnswers(
        capacite_annuelle=3500,
        etp_conseillers=15,
        delai_premier_rdv_jours=7,
        sites=[{"commune": "Rennes", "departement": "35", "type": "PERMANENT"}],
        canaux_distance=["TELEPHONE", "VISIO"],
        heures_hors_temps_travail_hebdo=6,
        nb_conseillers=18,
        nb_conseillers_qualifies=12,
        experience_moyenne_annees=4,
        heures_formation_par_etp=21,
        analyse_des_pratiques=True,
        prix_annuel_eur=1_900_000,
    )
    return replace(answers, **changes)


def site(departement: str, commune: str = "X", kind: str = "PERMANENT") -> dict[str, str]:
    return {"commune": commune, "departement": departement, "type": kind}


# --------------------------------------------------------------------- parameters, weights


def test_default_parameters_and_weights_follow_the_spec():
    p = TenderParameters()
    assert (p.entrees_max_par_etp, p.delai_cible_jours, p.delai_max_jours) == (220, 5, 30)
    assert (p.heures_hors_temps_cible, p.experience_cible_annees, p.formation_cible_heures) == (8, 5, 35)
    assert DEFAULT_WEIGHTS == {"CAPACITE": 30, "COUVERTURE": 30, "PROFESSIONNALISATION": 25, "PRIX": 15}


@pytest.mark.parametrize("changes", [
    {"entrees_max_par_etp": 0},
    {"heures_hors_temps_cible": -1},
    {"delai_max_jours": 5},  # empty window: s_delai would divide by zero
    {"delai_cible_jours": -1},
])
def test_unusable_parameters_are_refused_in_french(changes):
    with pytest.raises(ValueError, match="paramètre"):
        TenderParameters(**changes)


def test_default_weights_are_valid():
    assert validate_weights(DEFAULT_WEIGHTS) == []


def test_weights_not_summing_to_100():
    errors = validate_weights({**DEFAULT_WEIGHTS, "PRIX": 5})
    assert errors == ["La somme des poids doit être égale à 100 (actuellement 90)."]


def test_decimal_weights_summing_to_100_despite_float_noise():
    assert validate_weights({"CAPACITE": 33.3, "COUVERTURE": 33.3, "PROFESSIONNALISATION": 33.4}) == []


def test_negative_weight_is_refused():
    errors = validate_weights({"CAPACITE": 115, "COUVERTURE": -15})
    assert errors == ["Le poids du critère « COUVERTURE » doit être un nombre ≥ 0 (reçu -15)."]


def test_non_numeric_weight_is_refused():
    errors = validate_weights({**DEFAULT_WEIGHTS, "PRIX": "15"})
    assert len(errors) == 1 and "PRIX" in errors[0] and "nombre ≥ 0" in errors[0]


def test_unknown_criterion_is_refused():
    errors = validate_weights({**DEFAULT_WEIGHTS, "PRIX": 5, "QUALITE": 10})
    assert len(errors) == 1 and "Critère inconnu « QUALITE »" in errors[0]


def test_manual_criteria_count_in_the_sum_of_100():
    weights = {"CAPACITE": 30, "COUVERTURE": 20, "PROFESSIONNALISATION": 25, "PRIX": 15, "METHODO": 10}
    assert validate_weights(weights, manual_criteria=["METHODO"]) == []
    assert validate_weights({**DEFAULT_WEIGHTS, "METHODO": 10}, ["METHODO"]) == [
        "La somme des poids doit être égale à 100 (actuellement 110)."
    ]


def test_manual_criterion_without_weight_or_with_an_automatic_name():
    assert validate_weights(DEFAULT_WEIGHTS, ["METHODO"]) == ["Le critère manuel « METHODO » n'a pas de poids."]
    errors = validate_weights(DEFAULT_WEIGHTS, ["PRIX"])
    assert errors == ["Le critère manuel « PRIX » porte le nom d'un critère automatique."]


def test_lot_default_weights_are_equal_and_invalid_lots_refused():
    assert LotSpec(["35", "22"], 100).weights() == {"35": 1.0, "22": 1.0}
    with pytest.raises(ValueError):
        LotSpec([], 100)
    with pytest.raises(ValueError):
        LotSpec(["35"], 0)
    with pytest.raises(ValueError):
        LotSpec(["35"], 100, {"35": 0})


# --------------------------------------------------------------------- sub-scores


def test_s_volume_capacity_above_counsellor_backing_is_capped():
    # C* = min(3500, 15 × 220 = 3300) = 3300; 3300 / 4000
    assert credible_capacity(3500, 15) == 3300
    assert s_volume(3500, 15, 4000) == approx(0.825)


def test_s_volume_capacity_backed_by_counsellors_is_kept():
    # C* = min(2000, 3300) = 2000; 2000 / 4000
    assert s_volume(2000, 15, 4000) == approx(0.5)


def test_s_volume_is_capped_at_1_and_uses_the_tender_parameter():
    assert s_volume(5000, 30, 4000) == 1.0  # C* = 5000 > D
    assert s_volume(3500, 15, 4000, max_entries_per_fte=100) == approx(1500 / 4000)
    assert s_volume(3500, 0, 4000) == 0.0  # no counsellor, no credible capacity


@pytest.mark.parametrize("days, expected", [
    (0, 1.0), (5, 1.0),              # at or under the target
    (7, 23 / 25), (17.5, 0.5), (29, 1 / 25),  # linear: (30 − J) / 25
    (30, 0.0), (45, 0.0),            # at or over the maximum
])
def test_s_delai_boundaries(days, expected):
    assert s_delai(days) == approx(expected)


def test_s_delai_with_tender_parameters():
    assert s_delai(15, target_days=10, max_days=20) == approx(0.5)


def test_s_presence_with_departement_weights():
    assert s_presence([site("35")], LOT) == approx(2 / 3)
    assert s_presence([site("22")], LOT) == approx(1 / 3)
    assert s_presence([site("22"), site("35", kind="PERMANENCE")], LOT) == 1.0


def test_s_presence_ignores_sites_outside_the_lot():
    assert s_presence([site("29"), site("75")], LOT) == 0.0
    assert s_presence([site("29"), site("22")], LOT) == approx(1 / 3)


def test_s_presence_counts_a_departement_once_and_defaults_to_equal_weights():
    lot = LotSpec(["35", "22", "29", "56"], 1000)
    sites = [site("35", "Rennes"), site("35", "Saint-Malo"), site("56")]
    assert s_presence(sites, lot) == approx(2 / 4)


def test_s_presence_no_site():
    assert s_presence([], LOT) == 0.0


@pytest.mark.parametrize("channels, expected", [
    ([], 0.0),
    (["WEB"], 1 / 3),
    (["WEB", "WEB", "WEB"], 1 / 3),   # duplicates count once
    (["TELEPHONE", "VISIO"], 2 / 3),
    (["VISIO", "TELEPHONE", "WEB", "VISIO"], 1.0),
])
def test_s_distance(channels, expected):
    assert s_distance(channels) == approx(expected)


@pytest.mark.parametrize("hours, expected", [(0, 0.0), (6, 0.75), (8, 1.0), (12, 1.0)])
def test_s_horaires(hours, expected):
    assert s_horaires(hours) == approx(expected)


def test_s_qualif():
    assert s_qualif(12, 18) == approx(2 / 3)
    assert s_qualif(0, 18) == 0.0
    assert s_qualif(18, 18) == 1.0


def test_s_qualif_without_counsellors_is_zero():
    assert s_qualif(0, 0) == 0.0


@pytest.mark.parametrize("years, expected", [(0, 0.0), (4, 0.8), (5, 1.0), (12, 1.0)])
def test_s_experience(years, expected):
    assert s_experience(years) == approx(expected)


@pytest.mark.parametrize("hours, expected", [(0, 0.0), (21, 0.6), (35, 1.0), (70, 1.0)])
def test_s_formation(hours, expected):
    assert s_formation(hours) == approx(expected)


def test_s_supervision():
    assert s_supervision(True) == 1.0
    assert s_supervision(False) == 0.0


def test_s_prix():
    assert s_prix(1_900_000, 1_900_000) == 1.0
    assert s_prix(2_000_000, 1_900_000) == approx(0.95)
    with pytest.raises(ValueError):
        s_prix(0, 1_900_000)


# --------------------------------------------------------------------- score of a bid


def test_spec_example_b1():
    score = score_bid(b1(), LOT, min_price=1_900_000)
    assert score.sous_scores == {
        "s_volume": approx(0.825), "s_delai": approx(0.92), "s_presence": approx(2 / 3),
        "s_distance": approx(2 / 3), "s_horaires": approx(0.75), "s_qualif": approx(2 / 3),
        "s_experience": approx(0.8), "s_formation": approx(0.6), "s_supervision": 1.0,
        "s_prix": 1.0,
    }
    # 30 × (0.7 × 0.825 + 0.3 × 0.92) = 30 × 0.8535
    assert score.points["CAPACITE"] == approx(25.605)
    # 30 × (0.6 × 2/3 + 0.2 × 2/3 + 0.2 × 0.75) = 30 × (0.4 + 0.1333… + 0.15)
    assert score.points["COUVERTURE"] == approx(20.5)
    # 25 × (0.4 × 2/3 + 0.2 × 0.8 + 0.2 × 0.6 + 0.2 × 1) = 25 × 0.74666… = 56/3
    assert score.points["PROFESSIONNALISATION"] == approx(56 / 3)
    assert score.points["PRIX"] == 15.0
    assert score.total == approx(79.77166666666667)
    assert score.non_price_total == approx(64.77166666666667)
    assert score.manual_points == {}


def test_price_points_use_p_min():
    score = score_bid(b1(), LOT, min_price=1_520_000)
    assert score.sous_scores["s_prix"] == approx(0.8)
    assert score.points["PRIX"] == approx(12.0)
    assert score.total == approx(25.605 + 20.5 + 56 / 3 + 12)


def test_custom_weights_and_parameters():
    weights = {"CAPACITE": 50, "COUVERTURE": 0, "PROFESSIONNALISATION": 0, "PRIX": 50}
    params = TenderParameters(entrees_max_par_etp=300)  # C* = min(3500, 4500) = 3500
    score = score_bid(b1(), LOT, 1_900_000, weights, params)
    assert score.sous_scores["s_volume"] == approx(0.875)
    assert score.points == {
        "CAPACITE": approx(50 * (0.7 * 0.875 + 0.3 * 0.92)),
        "COUVERTURE": 0.0, "PROFESSIONNALISATION": 0.0, "PRIX": 50.0,
    }


def test_a_missing_automatic_criterion_weighs_zero():
    score = score_bid(b1(), LOT, 1_900_000, {"CAPACITE": 100})
    assert score.points["PRIX"] == 0.0
    assert score.total == approx(100 * 0.8535)


MANUAL_WEIGHTS = {"CAPACITE": 30, "COUVERTURE": 30, "PROFESSIONNALISATION": 15, "PRIX": 15, "METHODO": 10}
# PROFESSIONNALISATION at 15 instead of 25: 15 × 0.74666… = 11.2
AUTOMATIC_UNDER_MANUAL_WEIGHTS = 25.605 + 20.5 + 11.2 + 15


def test_manual_criterion_mean_of_marks():
    score = score_bid(b1(), LOT, 1_900_000, MANUAL_WEIGHTS, manual={"METHODO": ManualScore([3, 2, 4])})
    # 10 × mean(3, 2, 4) / 4 = 10 × 3 / 4
    assert score.manual_points == {"METHODO": approx(7.5)}
    assert score.total == approx(AUTOMATIC_UNDER_MANUAL_WEIGHTS + 7.5)
    assert score.non_price_total == approx(AUTOMATIC_UNDER_MANUAL_WEIGHTS + 7.5 - 15)


def test_manual_criterion_moderated_mark_wins():
    score = score_bid(b1(), LOT, 1_900_000, MANUAL_WEIGHTS,
                      manual={"METHODO": ManualScore([3, 2, 4], moderated_mark=1)})
    assert score.manual_points == {"METHODO": approx(2.5)}
    assert manual_points(10, ManualScore([], moderated_mark=0)) == 0.0


def test_manual_criterion_not_marked_yet_earns_nothing():
    score = score_bid(b1(), LOT, 1_900_000, MANUAL_WEIGHTS)
    assert score.manual_points == {"METHODO": 0.0}
    assert manual_points(10, ManualScore()) == 0.0
    assert "aucune note" in score.explanations["METHODO"].formula


def test_manual_marks_are_0_to_4_and_need_a_weight():
    with pytest.raises(ValueError):
        ManualScore([5])
    with pytest.raises(ValueError):
        ManualScore([2], moderated_mark=-1)
    with pytest.raises(ValueError):
        score_bid(b1(), LOT, 1_900_000, DEFAULT_WEIGHTS, manual={"METHODO": ManualScore([2])})


# --------------------------------------------------------------------- explanations


def test_every_sub_score_and_criterion_is_explained():
    score = score_bid(b1(), LOT, 1_900_000, MANUAL_WEIGHTS, manual={"METHODO": ManualScore([3, 2])})
    for name in SUB_SCORES:
        explanation = score.explanations[name]
        assert explanation.value == score.sous_scores[name]
        assert explanation.inputs and name in explanation.formula
    for name, points in score.points.items():
        assert score.explanations[name].value == points
    assert score.explanations["METHODO"].value == 6.25  # 10 × 2.5 / 4
    assert "moyenne(3; 2)" in score.explanations["METHODO"].formula


def test_explanation_texts_show_inputs_formula_and_result():
    ex = score_bid(b1(), LOT, 1_900_000).explanations
    assert ex["s_volume"].formula == (
        "C* = min(C, F × 220) = min(3500, 15 × 220) = 3300 ; "
        "s_volume = min(C* / D, 1) = min(3300 / 4000, 1) = 0,825"
    )
    assert ex["s_volume"].inputs == {"capacite_annuelle": 3500, "etp_conseillers": 15,
                                     "demande_annuelle": 4000, "entrees_max_par_etp": 220}
    assert ex["s_delai"].formula.endswith("s_delai = (30 − 7) / (30 − 5) = 0,92")
    assert "(35) / Σ w_d = 2 / 3 = 0,666667" in ex["s_presence"].formula
    assert ex["s_prix"].formula == "s_prix = P_min / P = 1900000 / 1900000 = 1"
    assert ex["CAPACITE"].formula == (
        "CAPACITE = 30 × (0,7 × s_volume + 0,3 × s_delai) = 30 × (0,7 × 0,825 + 0,3 × 0,92) = 25,605"
    )
    assert ex["PRIX"].formula == "PRIX = 15 × P_min / P = 15 × 1 = 15"


def test_explanations_of_special_cases():
    ex = explain_bid(b1(delai_premier_rdv_jours=3, nb_conseillers=0, nb_conseillers_qualifies=0,
                        canaux_distance=[]), LOT)
    assert "J = 3 ≤ 5 donc s_delai = 1" in ex["s_delai"].formula
    assert ex["s_qualif"].formula == "s_qualif = 0 car N = 0 (aucun conseiller déclaré)"
    assert "(aucun)" in ex["s_distance"].formula
    assert "s_prix" not in ex  # no P_min given
    ex = explain_bid(b1(delai_premier_rdv_jours=40), LOT)
    assert "J = 40 ≥ 30 donc s_delai = 0" in ex["s_delai"].formula


# --------------------------------------------------------------------- ranking

DAY = datetime(2023, 4, 27, 10, 0)


def bid(bid_id: str, answers: BidAnswers, hour: int = 10, admissible: bool = True) -> Bid:
    return Bid(bid_id, answers, DAY.replace(hour=hour), admissible)


def test_ranking_by_total_descending():
    weak = b1(analyse_des_pratiques=False)
    strong = b1(capacite_annuelle=4400, etp_conseillers=20)
    ranked = rank_bids([bid("W", weak), bid("S", strong), bid("M", b1())], LOT)
    assert [(r.bid.id, r.rank) for r in ranked] == [("S", 1), ("M", 2), ("W", 3)]
    assert ranked[0].score.total > ranked[1].score.total > ranked[2].score.total


def test_tie_on_total_broken_by_higher_non_price_total():
    # CHEAP: price 1 M€ → PRIX 15. DEAR: price 2 M€ → PRIX 7.5, but 7.5 more non-price
    # points: supervision (25 × 0.2 = 5) and 2.5 more years of experience (25 × 0.2 × 2.5/5).
    cheap = b1(prix_annuel_eur=1_000_000, analyse_des_pratiques=False, experience_moyenne_annees=1)
    dear = b1(prix_annuel_eur=2_000_000, analyse_des_pratiques=True, experience_moyenne_annees=3.5)
    ranked = rank_bids([bid("CHEAP", cheap, hour=8), bid("DEAR", dear, hour=11)], LOT)
    first, second = ranked
    assert first.score.total == pytest.approx(second.score.total, abs=1e-9)
    assert first.score.non_price_total == approx(second.score.non_price_total + 7.5)
    assert [(r.bid.id, r.rank) for r in ranked] == [("DEAR", 1), ("CHEAP", 2)]


def test_tie_on_total_and_non_price_broken_by_earlier_submission():
    ranked = rank_bids([bid("LATE", b1(), hour=16), bid("EARLY", b1(), hour=9)], LOT)
    assert [(r.bid.id, r.rank) for r in ranked] == [("EARLY", 1), ("LATE", 2)]


def test_submission_times_with_and_without_time_zone_compare():
    # Naive times are Paris time: 09:30 in April (UTC+2) is 07:30 UTC, before 08:00 UTC.
    aware = Bid("AWARE", b1(), datetime(2023, 4, 27, 8, 0, tzinfo=timezone.utc))
    naive = Bid("NAIVE", b1(), datetime(2023, 4, 27, 9, 30))
    assert [r.bid.id for r in rank_bids([aware, naive], LOT)] == ["NAIVE", "AWARE"]


def test_inadmissible_bid_is_not_ranked_and_excluded_from_p_min():
    cheap_out = bid("OUT", b1(prix_annuel_eur=500_000), admissible=False)
    ranked = rank_bids([cheap_out, bid("A", b1()), bid("B", b1(prix_annuel_eur=2_000_000))], LOT)
    assert [(r.bid.id, r.rank) for r in ranked] == [("A", 1), ("B", 2), ("OUT", None)]
    assert ranked[0].score.sous_scores["s_prix"] == 1.0  # P_min = 1.9 M€, not 0.5 M€
    assert ranked[1].score.points["PRIX"] == approx(15 * 1_900_000 / 2_000_000)
    assert ranked[2].score is None


def test_no_admissible_bid():
    ranked = rank_bids([bid("X", b1(), admissible=False), bid("Y", b1(), admissible=False)], LOT)
    assert [(r.bid.id, r.rank, r.score) for r in ranked] == [("X", None, None), ("Y", None, None)]


def test_manual_marks_count_in_the_ranking():
    a = Bid("A", b1(), DAY, manual={"METHODO": ManualScore([1])})
    b = Bid("B", b1(), DAY.replace(hour=12), manual={"METHODO": ManualScore([1], moderated_mark=4)})
    ranked = rank_bids([a, b], LOT, MANUAL_WEIGHTS)
    assert [r.bid.id for r in ranked] == ["B", "A"]
    assert ranked[0].score.total - ranked[1].score.total == approx(10 * 4 / 4 - 10 * 1 / 4)


def test_duplicate_bid_ids_are_refused():
    with pytest.raises(ValueError):
        rank_bids([bid("A", b1()), bid("A", b1())], LOT)


# --------------------------------------------------------------------- admissibility

MANDATORY = ["memoire_technique", "dc1", "attestation_fiscale", "attestation_sociale"]


def test_admissible_bid_has_no_problem():
    assert automatic_admissibility(b1(), LOT, set(MANDATORY), MANDATORY, True) == []


def test_missing_documents_are_listed_one_by_one():
    problems = automatic_admissibility(b1(), LOT, {"memoire_technique", "dc1"}, MANDATORY, True)
    assert problems == [
        ("MISSING_DOCUMENT", "Pièce obligatoire manquante : attestation_fiscale."),
        ("MISSING_DOCUMENT", "Pièce obligatoire manquante : attestation_sociale."),
    ]


def test_neutrality_not_declared():
    problems = automatic_admissibility(b1(), LOT, set(MANDATORY), MANDATORY, False)
    assert [code for code, _ in problems] == ["NO_NEUTRALITY_DECLARATION"]
    assert "neutralité" in problems[0][1]


@pytest.mark.parametrize("price", [0, -100])
def test_price_must_be_positive(price):
    problems = automatic_admissibility(b1(prix_annuel_eur=price), LOT, set(MANDATORY), MANDATORY, True)
    assert problems == [("INVALID_PRICE", "Le prix annuel doit être supérieur à 0 €.")]


def test_a_site_in_the_lot_is_required():
    answers = b1(sites=[site("29"), site("56")])  # Brittany, but outside this lot
    problems = automatic_admissibility(answers, LOT, set(MANDATORY), MANDATORY, True)
    assert problems == [("NO_SITE_IN_LOT", "Aucun site n'est implanté dans les départements du lot (35, 22).")]
    assert automatic_admissibility(b1(sites=[site("29"), site("22")]), LOT, set(MANDATORY), MANDATORY, True) == []


def test_every_problem_is_reported():
    answers = b1(prix_annuel_eur=0, sites=[])
    problems = automatic_admissibility(answers, LOT, set(), MANDATORY, False)
    codes = [code for code, _ in problems]
    assert codes == ["MISSING_DOCUMENT"] * 4 + ["NO_NEUTRALITY_DECLARATION", "INVALID_PRICE", "NO_SITE_IN_LOT"]
