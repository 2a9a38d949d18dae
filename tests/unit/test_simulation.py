"""Scoring simulation: the spec's input and output format, and French input errors."""
from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest

from quality_framework.scoring import DEFAULT_WEIGHTS, TenderParameters
from quality_framework.simulation import SimulationInputError, parse_simulation_input, simulate

approx = lambda x: pytest.approx(x, rel=1e-12, abs=1e-12)  # noqa: E731


def offer(**changes: Any) -> dict[str, Any]:
    """The spec's example bid B1."""
    data = {
        "id": "B1", "date_depot": "2023-04-27T10:15:00",
        "capacite_annuelle": 3500, "etp_conseillers": 15, "delai_premier_rdv_jours": 7,
        "sites": [{"commune": "Rennes", "departement": "35", "type": "PERMANENT"}],
        "canaux_distance": ["TELEPHONE", "VISIO"], "heures_hors_temps_travail_hebdo": 6,
        "nb_conseillers": 18, "nb_conseillers_qualifies": 12,
        "experience_moyenne_annees": 4, "heures_formation_par_etp": 21,
        "analyse_des_pratiques": True, "prix_annuel_eur": 1900000,
        "admissible": True,
    }
    data.update(changes)
    return data


def spec_input(*offers: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The spec's example input (all optional parts given)."""
    data = {
        "lot": {"departements": ["35", "22"], "demande_annuelle": 4000,
                "poids_departements": {"35": 2, "22": 1}},
        "criteres": {"CAPACITE": 30, "COUVERTURE": 30, "PROFESSIONNALISATION": 25, "PRIX": 15},
        "parametres": {"entrees_max_par_etp": 220, "delai_cible_jours": 5, "delai_max_jours": 30,
                       "heures_hors_temps_cible": 8, "experience_cible_annees": 5,
                       "formation_cible_heures": 35},
        "offres": list(offers) or [offer()],
    }
    data.update(changes)
    return data


B1_TOTAL = 25.605 + 20.5 + 56 / 3 + 15  # 79.771666…


# --------------------------------------------------------------------- output


def test_spec_example_output():
    result = simulate(spec_input())
    assert result == [{
        "id": "B1", "admissible": True, "rang": 1,
        "sous_scores": {
            "s_volume": approx(0.825), "s_delai": approx(0.92), "s_presence": approx(2 / 3),
            "s_distance": approx(2 / 3), "s_horaires": approx(0.75), "s_qualif": approx(2 / 3),
            "s_experience": approx(0.8), "s_formation": approx(0.6), "s_supervision": 1.0,
            "s_prix": 1.0,
        },
        "points": {"CAPACITE": approx(25.605), "COUVERTURE": approx(20.5),
                   "PROFESSIONNALISATION": approx(56 / 3), "PRIX": 15.0},
        "total": approx(79.77166666666667),
    }]
    assert list(result[0]) == ["id", "admissible", "rang", "sous_scores", "points", "total"]


def test_output_is_json_with_unrounded_numbers():
    text = json.dumps(simulate(spec_input()), ensure_ascii=False)
    assert json.loads(text)[0]["total"] == approx(B1_TOTAL)
    assert "0.6666666666666" in text  # not rounded to two decimals


def test_optional_parts_take_their_defaults():
    data = spec_input()
    del data["criteres"], data["parametres"], data["lot"]["poids_departements"]
    del data["offres"][0]["admissible"]
    parsed = parse_simulation_input(data)
    assert parsed.weights == DEFAULT_WEIGHTS
    assert parsed.params == TenderParameters()
    assert parsed.bids[0].admissible is True
    result = simulate(data)
    # Equal département weights: only 35 of {35, 22} covered → 1/2.
    assert result[0]["sous_scores"]["s_presence"] == 0.5
    assert result[0]["points"]["COUVERTURE"] == approx(30 * (0.6 * 0.5 + 0.2 * 2 / 3 + 0.2 * 0.75))


def test_custom_weights_and_parameters_are_used():
    data = spec_input(criteres={"CAPACITE": 50, "PRIX": 50},  # others weigh 0
                      parametres={"entrees_max_par_etp": 300, "delai_max_jours": 15})
    (result,) = simulate(data)
    # C* = min(3500, 15 × 300) = 3500 → 0.875; s_delai = (15 − 7) / (15 − 5) = 0.8
    assert result["sous_scores"]["s_volume"] == approx(0.875)
    assert result["sous_scores"]["s_delai"] == approx(0.8)
    assert result["points"] == {"CAPACITE": approx(50 * (0.7 * 0.875 + 0.3 * 0.8)),
                                "COUVERTURE": 0.0, "PROFESSIONNALISATION": 0.0, "PRIX": 50.0}


def test_bids_come_in_rank_order_and_inadmissible_ones_last():
    data = spec_input(
        offer(id="OUT", prix_annuel_eur=100000, admissible=False),
        offer(id="DEAR", prix_annuel_eur=2000000),
        offer(id="B1"),
    )
    result = simulate(data)
    assert [(r["id"], r["rang"]) for r in result] == [("B1", 1), ("DEAR", 2), ("OUT", None)]
    # P_min is B1's 1.9 M€: the inadmissible 0.1 M€ does not count.
    assert result[0]["points"]["PRIX"] == 15.0
    assert result[1]["sous_scores"]["s_prix"] == approx(0.95)
    assert result[2] == {"id": "OUT", "admissible": False, "rang": None,
                         "sous_scores": None, "points": None, "total": None}


def test_ties_are_broken_by_non_price_total_then_submission_date():
    cheap = offer(id="CHEAP", prix_annuel_eur=1000000, analyse_des_pratiques=False,
                  experience_moyenne_annees=1, date_depot="2023-04-20T08:00:00")
    dear = offer(id="DEAR", prix_annuel_eur=2000000, analyse_des_pratiques=True,
                 experience_moyenne_annees=3.5, date_depot="2023-04-28T08:00:00")
    late = offer(id="LATE", prix_annuel_eur=1000000, analyse_des_pratiques=False,
                 experience_moyenne_annees=1, date_depot="2023-04-27T08:00:00+00:00")
    result = simulate(spec_input(late, cheap, dear))
    # All totals equal (DEAR: 7.5 fewer price points, 7.5 more non-price points).
    assert result[0]["total"] == pytest.approx(result[2]["total"], abs=1e-9)
    assert [r["id"] for r in result] == ["DEAR", "CHEAP", "LATE"]


# --------------------------------------------------------------------- bad input


def errors_of(data: Any) -> list[str]:
    with pytest.raises(SimulationInputError) as info:
        simulate(data)
    assert str(info.value) == "\n".join(info.value.errors)
    return info.value.errors


def with_offer(**changes: Any) -> dict[str, Any]:
    return spec_input(offer(**changes))


def without(path: str) -> dict[str, Any]:
    """The spec input with one field removed, path like 'offres.0.capacite_annuelle'."""
    data = spec_input()
    *parents, last = path.split(".")
    node: Any = data
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    del node[last]
    return data


BAD_INPUTS = [
    # (input, the exact expected message)
    (with_offer(capacite_annuelle="abc"),
     'offres[0].capacite_annuelle : nombre ≥ 0 attendu, reçu "abc"'),
    (with_offer(capacite_annuelle=-5), "offres[0].capacite_annuelle : nombre ≥ 0 attendu, reçu -5"),
    (with_offer(capacite_annuelle=True), "offres[0].capacite_annuelle : nombre ≥ 0 attendu, reçu true"),
    (with_offer(capacite_annuelle=math.nan), "offres[0].capacite_annuelle : nombre ≥ 0 attendu, reçu NaN"),
    (without("offres.0.capacite_annuelle"),
     "offres[0].capacite_annuelle : champ obligatoire manquant (attendu : nombre ≥ 0)"),
    (with_offer(etp_conseillers=None), "offres[0].etp_conseillers : nombre ≥ 0 attendu, reçu null"),
    (with_offer(delai_premier_rdv_jours=-1), "offres[0].delai_premier_rdv_jours : nombre ≥ 0 attendu, reçu -1"),
    (with_offer(nb_conseillers=2.5), "offres[0].nb_conseillers : entier ≥ 0 attendu, reçu 2.5"),
    (with_offer(nb_conseillers_qualifies=20),
     "offres[0].nb_conseillers_qualifies : ne peut dépasser nb_conseillers (18), reçu 20"),
    (with_offer(prix_annuel_eur=0), "offres[0].prix_annuel_eur : prix_annuel_eur doit être > 0, reçu 0"),
    (with_offer(prix_annuel_eur=-10), "offres[0].prix_annuel_eur : prix_annuel_eur doit être > 0, reçu -10"),
    # a zero price is an input error even on an inadmissible bid
    (with_offer(prix_annuel_eur=0, admissible=False),
     "offres[0].prix_annuel_eur : prix_annuel_eur doit être > 0, reçu 0"),
    (with_offer(prix_annuel_eur="1 900 000"),
     'offres[0].prix_annuel_eur : nombre > 0 attendu, reçu "1 900 000"'),
    (with_offer(date_depot="27/04/2023"),
     'offres[0].date_depot : horodatage ISO 8601 (ex. "2023-04-27T10:15:00") attendu, reçu "27/04/2023"'),
    (with_offer(date_depot=20230427),
     'offres[0].date_depot : horodatage ISO 8601 (ex. "2023-04-27T10:15:00") attendu, reçu 20230427'),
    (without("offres.0.date_depot"),
     'offres[0].date_depot : champ obligatoire manquant (attendu : horodatage ISO 8601 (ex. "2023-04-27T10:15:00"))'),
    (with_offer(id=""), 'offres[0].id : identifiant (texte non vide) attendu, reçu ""'),
    (with_offer(id=7), "offres[0].id : identifiant (texte non vide) attendu, reçu 7"),
    (spec_input(offer(), offer(capacite_annuelle=100)),
     'offres[1].id : identifiant "B1" déjà utilisé par offres[0]'),
    (with_offer(sites=[{"commune": "Brest", "departement": "99", "type": "PERMANENT"}]),
     'offres[0].sites[0].departement : code de département inconnu, reçu "99"'),
    (with_offer(sites=[{"commune": "Rennes", "departement": 35, "type": "PERMANENT"}]),
     'offres[0].sites[0].departement : code de département (texte, ex. "35", "2A") attendu, reçu 35'),
    (with_offer(sites=[{"commune": "Rennes", "departement": "35", "type": "MOBILE"}]),
     'offres[0].sites[0].type : PERMANENT ou PERMANENCE attendu, reçu "MOBILE"'),
    (with_offer(sites=[{"departement": "35", "type": "PERMANENT"}]),
     "offres[0].sites[0].commune : champ obligatoire manquant (attendu : nom de commune)"),
    (with_offer(sites=[{"commune": "Rennes", "departement": "35", "type": "PERMANENT", "cp": "35000"}]),
     "offres[0].sites[0].cp : champ inconnu (champs possibles : commune, departement, type)"),
    (with_offer(sites="Rennes"), 'offres[0].sites : tableau de sites attendu, reçu "Rennes"'),
    (with_offer(sites=["Rennes"]), 'offres[0].sites[0] : objet JSON attendu, reçu "Rennes"'),
    (with_offer(canaux_distance=["TELEPHONE", "FAX"]),
     'offres[0].canaux_distance[1] : canal parmi TELEPHONE, VISIO, WEB attendu, reçu "FAX"'),
    (with_offer(canaux_distance="WEB"),
     'offres[0].canaux_distance : tableau de canaux parmi TELEPHONE, VISIO, WEB attendu, reçu "WEB"'),
    (with_offer(analyse_des_pratiques="oui"),
     'offres[0].analyse_des_pratiques : true ou false attendu, reçu "oui"'),
    (with_offer(admissible=1), "offres[0].admissible : true ou false attendu, reçu 1"),
    (with_offer(capacite_anuelle=3500),
     "offres[0].capacite_anuelle : champ inconnu (champs possibles : id, date_depot, capacite_annuelle, "
     "etp_conseillers, delai_premier_rdv_jours, sites, canaux_distance, heures_hors_temps_travail_hebdo, "
     "nb_conseillers, nb_conseillers_qualifies, experience_moyenne_annees, heures_formation_par_etp, "
     "analyse_des_pratiques, prix_annuel_eur, admissible)"),
    (spec_input(criteres={"CAPACITE": 30, "COUVERTURE": 30, "PROFESSIONNALISATION": 25, "PRIX": 5}),
     "criteres : la somme des poids doit être égale à 100, reçu 90"),
    (spec_input(criteres={"CAPACITE": 30, "COUVERTURE": 30, "PROFESSIONNALISATION": 25, "QUALITE": 15}),
     "criteres.QUALITE : critère inconnu (critères possibles : CAPACITE, COUVERTURE, PROFESSIONNALISATION, PRIX)"),
    (spec_input(criteres={"CAPACITE": 115, "PRIX": -15}), "criteres.PRIX : poids ≥ 0 attendu, reçu -15"),
    (spec_input(criteres=[30, 30, 25, 15]), "criteres : objet JSON attendu, reçu [30, 30, 25, 15]"),
    (spec_input(parametres={"delai_max_jours": 5}),
     "parametres.delai_max_jours : nombre > delai_cible_jours (5) attendu, reçu 5"),
    (spec_input(parametres={"entrees_max_par_etp": 0}),
     "parametres.entrees_max_par_etp : nombre > 0 attendu, reçu 0"),
    (spec_input(parametres={"delai_cible": 5}),
     "parametres.delai_cible : champ inconnu (champs possibles : entrees_max_par_etp, delai_cible_jours, "
     "delai_max_jours, heures_hors_temps_cible, experience_cible_annees, formation_cible_heures)"),
    (spec_input(lot={"departements": ["35", "99"], "demande_annuelle": 4000}),
     'lot.departements[1] : code de département inconnu, reçu "99"'),
    (spec_input(lot={"departements": ["35", "35"], "demande_annuelle": 4000}),
     'lot.departements[1] : département "35" en double'),
    (spec_input(lot={"departements": [], "demande_annuelle": 4000}),
     "lot.departements : tableau non vide de codes de département attendu, reçu []"),
    (spec_input(lot={"departements": ["35"], "demande_annuelle": 0}),
     "lot.demande_annuelle : nombre > 0 attendu, reçu 0"),
    (spec_input(lot={"departements": ["35"]}),
     "lot.demande_annuelle : champ obligatoire manquant (attendu : nombre > 0)"),
    (spec_input(lot={"departements": ["35", "22"], "demande_annuelle": 4000, "poids_departements": {"35": 2}}),
     'lot.poids_departements : poids manquant pour le département "22"'),
    (spec_input(lot={"departements": ["35"], "demande_annuelle": 4000,
                     "poids_departements": {"35": 1, "29": 1}}),
     "lot.poids_departements.29 : département absent de lot.departements"),
    (spec_input(lot={"departements": ["35"], "demande_annuelle": 4000, "poids_departements": {"35": -1}}),
     "lot.poids_departements.35 : nombre ≥ 0 attendu, reçu -1"),
    (spec_input(lot={"departements": ["35"], "demande_annuelle": 4000, "poids_departements": {"35": 0}}),
     "lot.poids_departements : la somme des poids doit être > 0"),
    (without("lot"), "lot : champ obligatoire manquant (attendu : objet JSON)"),
    (without("offres"), "offres : champ obligatoire manquant (attendu : tableau d'offres)"),
    (spec_input(offres=[]), "offres : tableau non vide d'offres attendu, reçu []"),
    (spec_input(offres=[3]), "offres[0] : objet JSON attendu, reçu 3"),
    (spec_input(commentaire="test"),
     "commentaire : champ inconnu (champs possibles : lot, criteres, parametres, offres)"),
    (["lot"], 'entrée : objet JSON attendu, reçu ["lot"]'),
]


@pytest.mark.parametrize("data, message", BAD_INPUTS, ids=[m.split(" :")[0] + f"-{i}" for i, (_, m) in
                                                           enumerate(BAD_INPUTS)])
def test_bad_input_gets_a_french_message_naming_the_field(data, message):
    assert errors_of(data) == [message]


def test_long_received_values_are_shortened():
    (message,) = errors_of(with_offer(capacite_annuelle="x" * 500))
    assert message == 'offres[0].capacite_annuelle : nombre ≥ 0 attendu, reçu "' + "x" * 56 + "…"


def test_every_problem_is_reported_at_once():
    data = spec_input(offer(capacite_annuelle=-1, prix_annuel_eur=0),
                      offer(id="B2", sites=[{"commune": "Brest", "departement": "999", "type": "PERMANENT"}]),
                      criteres={"PRIX": 50})
    assert errors_of(data) == [
        "criteres : la somme des poids doit être égale à 100, reçu 50",
        "offres[0].capacite_annuelle : nombre ≥ 0 attendu, reçu -1",
        "offres[0].prix_annuel_eur : prix_annuel_eur doit être > 0, reçu 0",
        'offres[1].sites[0].departement : code de département inconnu, reçu "999"',
    ]


def test_valid_edge_values_are_accepted():
    data = spec_input(
        offer(sites=[], canaux_distance=[], nb_conseillers=0, nb_conseillers_qualifies=0,
              capacite_annuelle=0, date_depot="2023-04-27T10:15:00+02:00"),
        offer(id="B2", nb_conseillers=18.0, date_depot="2023-04-27",
              sites=[{"commune": "Ajaccio", "departement": "2A", "type": "PERMANENCE"}]),
    )
    result = simulate(data)
    scores = {r["id"]: r["sous_scores"] for r in result}
    assert scores["B1"]["s_presence"] == 0.0 and scores["B1"]["s_qualif"] == 0.0
    assert scores["B2"]["s_presence"] == 0.0  # Corse-du-Sud is outside the lot


def test_input_is_not_modified():
    data = spec_input()
    before = copy.deepcopy(data)
    simulate(data)
    assert data == before
