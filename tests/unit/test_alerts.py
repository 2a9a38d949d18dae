"""« Lecture qualitative »: thresholds, boundaries and the rows behind each alert."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine

from quality_framework.alerts import (
    ABOVE, ALERT_RULES, BELOW, DEFAULT_THRESHOLDS, alert_rows_select, evaluate_alerts,
    percent_fr, validate_thresholds,
)
from quality_framework.catalog import SCALAR_INDICATORS
from quality_framework.indicators import (
    counts_by_version, define_beneficiary_rows_table, indicators_from_counts,
)

YEAR = 2024
BASE = dict(
    date_entree=date(2024, 1, 10), niveau_max=2, sexe="F", tranche_age="26-44", rqth="N",
    statut="CDI", csp="5", niveau_qualification="4", taille_entreprise="TPE",
    secteur_naf="G", departement="75", motif="PROJET", canal="PRESENTIEL",
    nb_entretiens=2, duree_heures=3.0, date_sortie=None, type_sortie=None,
    document_synthese="O", satisfaction=None,
)
EXIT = dict(date_sortie=date(2024, 6, 1), type_sortie="PLAN_ACTION", satisfaction=5)
ROWS = [
    dict(id_parcours="A1", niveau_max=1),
    dict(id_parcours="A2", **EXIT),
    dict(id_parcours="A3", **{**EXIT, "type_sortie": "ABANDON", "satisfaction": 3}),
    dict(id_parcours="A4", **{**EXIT, "nb_entretiens": 1, "document_synthese": "N"}),
    dict(id_parcours="A5", **{**EXIT, "nb_entretiens": 0, "satisfaction": None}),
    dict(id_parcours="A6", date_entree=date(2023, 5, 1), **EXIT),
    dict(id_parcours="A7", **{**EXIT, "niveau_max": 1, "document_synthese": "N"}),
]


@pytest.fixture(scope="module")
def db():
    engine = create_engine("sqlite://")
    metadata = MetaData()
    versions = Table("workbook_versions", metadata, Column("id", Integer, primary_key=True))
    rows = define_beneficiary_rows_table(metadata)
    with engine.begin() as conn:
        metadata.create_all(conn)
        conn.execute(versions.insert(), [{"id": 1}, {"id": 2}])
        conn.execute(rows.insert(), [
            {**BASE, **r, "workbook_version_id": 1, "row_number": i + 2}
            for i, r in enumerate(ROWS)
        ] + [{**BASE, **ROWS[2], "workbook_version_id": 2, "row_number": 2}])
    with engine.connect() as conn:
        yield conn, rows
    engine.dispose()


def test_rules_name_real_indicators_and_defaults_are_valid():
    assert set(ALERT_RULES) <= set(SCALAR_INDICATORS)
    assert set(DEFAULT_THRESHOLDS) == set(ALERT_RULES)
    assert validate_thresholds(DEFAULT_THRESHOLDS) == []
    assert DEFAULT_THRESHOLDS["taux_abandon"] == 0.25


@pytest.mark.parametrize("name", sorted(DEFAULT_THRESHOLDS))
def test_each_alert_at_its_boundary(name):
    threshold = DEFAULT_THRESHOLDS[name]
    worse = 0.01 if ALERT_RULES[name]["direction"] == ABOVE else -0.01
    assert evaluate_alerts({name: threshold}) == []                # at the threshold: fine
    assert evaluate_alerts({name: threshold - worse}) == []        # on the good side
    assert evaluate_alerts({name: None}) == []                     # non calculable
    (alert,) = evaluate_alerts({name: threshold + worse})
    assert (alert.indicator, alert.threshold) == (name, threshold)
    assert alert.value == pytest.approx(threshold + worse)
    assert alert.rows_filter == ALERT_RULES[name]["rows_filter"]


def test_boundary_reached_by_computed_rates():
    # 1 abandonment out of 4 exits is exactly 25 %: no alert; 17/20 satisfied is 85 %.
    assert evaluate_alerts({"taux_abandon": 1 / 4, "taux_satisfaits": 17 / 20,
                            "taux_realisation": 8 / 10, "taux_document_synthese": 9 / 10,
                            "taux_information_seule": 2 / 5,
                            "taux_parcours_courts": 3 / 10}) == []


def test_alert_direction_and_message():
    (low,) = evaluate_alerts({"taux_realisation": 0.7})
    assert low.direction == BELOW
    assert low.message_fr == ("Taux de réalisation : 70,0\u00a0%, inférieur au seuil "
                              "d'alerte de 80,0\u00a0%.")
    (high,) = evaluate_alerts({"taux_abandon": 0.325})
    assert high.direction == ABOVE and "32,5\u00a0%, supérieur" in high.message_fr
    assert percent_fr(0.4) == "40,0\u00a0%"


def test_campaign_thresholds_and_missing_keys():
    indicators = {"taux_abandon": 0.3, "taux_information_seule": 0.9}
    assert [a.indicator for a in evaluate_alerts(indicators, {"taux_abandon": 0.35})] == []
    assert [a.indicator for a in evaluate_alerts(indicators, {"taux_abandon": 0.2})] == [
        "taux_abandon"]


def test_alert_rows_filter_is_a_copy():
    (alert,) = evaluate_alerts({"taux_abandon": 0.9})
    alert.rows_filter["conditions"].clear()
    assert ALERT_RULES["taux_abandon"]["rows_filter"]["conditions"]


def test_threshold_validation_messages():
    errors = validate_thresholds({"taux_abandon": 25, "taux_inconnu": 0.1,
                                  "taux_satisfaits": "0,85", "taux_realisation": True,
                                  "taux_document_synthese": -0.1,
                                  "taux_parcours_courts": 0, "taux_information_seule": 1})
    assert len(errors) == 5
    assert any("« taux_abandon »" in e and "entre 0 et 1" in e for e in errors)
    assert any("Indicateur inconnu" in e and "taux_inconnu" in e for e in errors)
    assert any("« taux_satisfaits » doit être un nombre" in e for e in errors)
    assert any("« taux_realisation » doit être un nombre" in e for e in errors)
    assert any("taux_document_synthese" in e for e in errors)


def ids(db, indicator: str, version_id: int = 1) -> list[str]:
    conn, rows = db
    query = alert_rows_select(rows, version_id, YEAR, indicator)
    return [r.id_parcours for r in conn.execute(query)]


def test_rows_behind_each_alert(db):
    assert ids(db, "taux_information_seule") == ["A1", "A7"]
    assert ids(db, "taux_abandon") == ["A3"]
    assert ids(db, "taux_parcours_courts") == ["A4", "A5"]
    assert ids(db, "taux_realisation") == ["A1", "A2", "A3", "A4", "A5", "A7"]
    assert ids(db, "taux_satisfaits") == ["A3"]
    assert ids(db, "taux_document_synthese") == ["A4"]
    assert ids(db, "taux_abandon", version_id=2) == ["A3"]


def test_rows_match_the_counts_behind_the_figures(db):
    conn, rows = db
    counts = counts_by_version(conn, rows, [1], YEAR)[1]
    ind = indicators_from_counts(counts, capacity=10)
    assert len(ids(db, "taux_abandon")) == counts.sorties_par_type["ABANDON"]
    assert len(ids(db, "taux_information_seule")) == counts.entrees_niveau1
    assert len(ids(db, "taux_parcours_courts")) == counts.sorties_courtes
    assert len(ids(db, "taux_satisfaits")) == (counts.satisfaction_answers
                                               - counts.satisfaction_satisfied)
    assert len(ids(db, "taux_document_synthese")) == (
        counts.sorties_niveau2plus - counts.sorties_niveau2plus_document_o)
    raised = {a.indicator for a in evaluate_alerts(ind)}
    # 2/6 info seule, 1/6 abandon, 2/6 courts, 6/10 réalisation, 4/5 satisfaits, 4/5 docs
    assert raised == {"taux_parcours_courts", "taux_realisation", "taux_satisfaits",
                      "taux_document_synthese"}


def test_rows_select_columns(db):
    conn, rows = db
    result = conn.execute(alert_rows_select(rows, 1, YEAR, "taux_document_synthese"))
    assert list(result.keys()) == ["id_parcours", "row_number", "date_entree", "date_sortie",
                                   "type_sortie", "niveau_max", "document_synthese"]
    (only,) = result.all()
    assert only.row_number == 5
    with pytest.raises(KeyError):
        alert_rows_select(rows, 1, YEAR, "entrees")
