"""Indicators computed by hand on small sets of rows (spec « Indicators »)."""
from __future__ import annotations

import uuid
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, event, func, select, text

from quality_framework.catalog import DISTRIBUTIONS, EXIT_DISTRIBUTION, SCALAR_INDICATORS
from quality_framework.indicators import (
    Counts, charges_total, counts_by_version, counts_from_frame,
    define_beneficiary_rows_table, distribution_shares, indicators_from_counts, share,
    sum_capacity, sum_counts, sum_finances, sum_means,
)

YEAR = 2024
BASE = dict(
    id_parcours="X", date_entree=date(2024, 1, 10), niveau_max=2, sexe="F",
    tranche_age="26-44", rqth="N", statut="CDI", csp="5", niveau_qualification="4",
    taille_entreprise="TPE", secteur_naf="G", departement="75", motif="PROJET",
    canal="PRESENTIEL", nb_entretiens=2, duree_heures=3.0, date_sortie=None,
    type_sortie=None, document_synthese="N", satisfaction=None,
)


def row(id_parcours: str, **changes) -> dict:
    return {**BASE, "id_parcours": id_parcours, **changes}


# Contract A, 2024. P3 and P6 started before N and were open on 1 January.
ROWS_A = [
    row("P1", date_entree=date(2024, 2, 1), niveau_max=1, tranche_age="15-25",
        motif="POINT", nb_entretiens=1, duree_heures=1.0, date_sortie=date(2024, 2, 1),
        type_sortie="FIN_POINT", satisfaction=5),
    row("P2", date_entree=date(2024, 3, 1), sexe="H", rqth="O", statut="CDD", csp="6",
        niveau_qualification="3", taille_entreprise="PE", canal="VISIO", nb_entretiens=3,
        duree_heures=6.0, date_sortie=date(2024, 6, 1), type_sortie="PLAN_ACTION",
        document_synthese="O", satisfaction=4),
    row("P3", date_entree=date(2023, 10, 1), niveau_max=3, tranche_age="45-54",
        statut="INDEPENDANT", taille_entreprise="SO", secteur_naf=None, departement="92",
        motif="CREATION", canal="MIXTE", nb_entretiens=4, duree_heures=10.0,
        date_sortie=date(2024, 4, 1), type_sortie="ABANDON", satisfaction=2),
    row("P4", date_entree=date(2024, 5, 1), tranche_age="55+", taille_entreprise="GE",
        departement="93", motif="TRANSITION", canal="TELEPHONE", nb_entretiens=0,
        duree_heures=0.5, date_sortie=date(2024, 7, 1), type_sortie="ABANDON",
        document_synthese="O"),
    row("P5", date_entree=date(2024, 9, 1), sexe="H", statut="INTERIM", csp="6",
        niveau_qualification="SANS", taille_entreprise="ME", motif="COMPETENCES",
        duree_heures=4.0),
    row("P6", date_entree=date(2022, 11, 1), niveau_max=3, sexe="H", statut="ALTERNANCE",
        departement="94", motif="DEMISSION", nb_entretiens=5, duree_heures=8.5,
        date_sortie=date(2024, 12, 31), type_sortie="REORIENTATION",
        document_synthese="O", satisfaction=3),
]
# Contract B: two entries at level 1, one abandonment.
ROWS_B = [
    row("Q1", date_entree=date(2024, 1, 15), niveau_max=1, nb_entretiens=1,
        duree_heures=0.5, date_sortie=date(2024, 1, 15), type_sortie="ABANDON",
        satisfaction=1),
    row("Q2", date_entree=date(2024, 2, 1), niveau_max=1, duree_heures=1.0),
]
MOYENS_A = {"etp_conseillers": 2.0, "nb_conseillers": 3, "delai_moyen_premier_rdv_jours": 9}
FINANCES_A = {"PERSONNEL": 100000, "LOCAUX": 20000, "FRAIS_STRUCTURE": 10000,
              "FINANCEMENT_FRANCE_COMPETENCES": 120000, "AUTRES_PRODUITS": 5000}


def make_db(url: str = "sqlite://"):
    engine = create_engine(url)
    metadata = MetaData()
    versions = Table("workbook_versions", metadata, Column("id", Integer, primary_key=True))
    rows = define_beneficiary_rows_table(metadata)
    return engine, metadata, versions, rows


def insert(conn, versions, rows, version_id: int, data: list[dict]) -> None:
    conn.execute(versions.insert(), [{"id": version_id}])
    if data:
        conn.execute(rows.insert(), [
            {**r, "workbook_version_id": version_id, "row_number": i + 2}
            for i, r in enumerate(data)
        ])


@pytest.fixture()
def db():
    engine, metadata, versions, rows = make_db()
    with engine.begin() as conn:
        metadata.create_all(conn)
        insert(conn, versions, rows, 1, ROWS_A)
        insert(conn, versions, rows, 2, ROWS_B)
        insert(conn, versions, rows, 3, [])                     # nothing at all
        insert(conn, versions, rows, 4, [row("R1")])             # entries, no sorties
        insert(conn, versions, rows, 5, [row("S1", date_sortie=date(2024, 3, 1),
                                             type_sortie="PLAN_ACTION")])  # no answers
        insert(conn, versions, rows, 99, ROWS_A + ROWS_B)        # union of A and B
    with engine.connect() as conn:
        yield conn, rows
    engine.dispose()


def counts_of(db, *ids: int) -> dict[int, Counts]:
    conn, rows = db
    return counts_by_version(conn, rows, ids, YEAR)


def test_counts_by_hand(db):
    c = counts_of(db, 1)[1]
    assert (c.entrees, c.parcours_actifs, c.sorties) == (4, 6, 5)
    assert c.entrees_niveau1 == 1
    assert c.sorties_par_type == {"FIN_POINT": 1, "PLAN_ACTION": 1, "ABANDON": 2,
                                  "REORIENTATION": 1}
    assert (c.sorties_niveau2plus, c.sorties_niveau2plus_document_o) == (4, 3)
    assert c.sorties_courtes == 2
    assert (c.satisfaction_answers, c.satisfaction_sum, c.satisfaction_satisfied) == (4, 14, 2)
    assert (c.heures_totales, c.heures_sorties) == (30.0, 26.0)
    d = c.distributions
    assert d["niveau_max"] == {"1": 1, "2": 3}
    assert d["sexe"] == {"F": 2, "H": 2}
    assert d["tranche_age"] == {"15-25": 1, "26-44": 2, "55+": 1}
    assert d["canal"] == {"PRESENTIEL": 2, "VISIO": 1, "TELEPHONE": 1}
    assert d["departement"] == {"75": 3, "93": 1}
    assert d["niveau_qualification"] == {"4": 2, "3": 1, "SANS": 1}
    assert sum(d["motif"].values()) == c.entrees


def test_indicators_by_hand(db):
    ind = indicators_from_counts(counts_of(db, 1)[1], MOYENS_A, FINANCES_A, capacity=5)
    assert list(ind)[:-1] == list(SCALAR_INDICATORS)
    expected = {
        "entrees": 4, "parcours_actifs": 6, "sorties": 5,
        "taux_abandon": 0.4, "taux_plan_action": 0.2, "taux_document_synthese": 0.75,
        "taux_information_seule": 0.25, "taux_parcours_courts": 0.4,
        "satisfaction_moyenne": 3.5, "taux_satisfaits": 0.5, "taux_reponse": 0.8,
        "heures_totales": 30.0, "duree_moyenne_sortie": 5.2,
        "charges_totales": 130000.0,                 # produits are not charges
        "cout_par_entree": 32500.0, "entrees_par_etp": 2.0, "taux_realisation": 0.8,
    }
    for name, value in expected.items():
        assert ind[name] == pytest.approx(value), name
    assert ind["cout_par_heure"] == pytest.approx(130000 / 30)
    assert set(ind["repartition"]) == set(DISTRIBUTIONS) | {EXIT_DISTRIBUTION}
    assert ind["repartition"]["type_sortie"]["ABANDON"] == 2


def test_nothing_at_all_is_non_calculable(db):
    ind = indicators_from_counts(counts_of(db, 3)[3], MOYENS_A, FINANCES_A, 5)
    assert (ind["entrees"], ind["sorties"], ind["heures_totales"]) == (0, 0, 0.0)
    for name in ("taux_abandon", "taux_plan_action", "taux_document_synthese",
                 "taux_information_seule", "taux_parcours_courts", "satisfaction_moyenne",
                 "taux_satisfaits", "taux_reponse", "duree_moyenne_sortie",
                 "cout_par_entree", "cout_par_heure"):
        assert ind[name] is None, name
    assert ind["entrees_par_etp"] == 0.0 and ind["taux_realisation"] == 0.0
    assert all(v == {} for v in ind["repartition"].values())


def test_no_sorties(db):
    ind = indicators_from_counts(counts_of(db, 4)[4])
    assert ind["entrees"] == 1 and ind["taux_information_seule"] == 0.0
    for name in ("taux_abandon", "taux_parcours_courts", "taux_reponse",
                 "taux_satisfaits", "satisfaction_moyenne", "duree_moyenne_sortie"):
        assert ind[name] is None, name


def test_no_answers(db):
    ind = indicators_from_counts(counts_of(db, 5)[5])
    assert ind["sorties"] == 1 and ind["taux_reponse"] == 0.0
    assert ind["satisfaction_moyenne"] is None and ind["taux_satisfaits"] is None
    assert ind["taux_plan_action"] == 1.0


def test_no_means_finances_or_capacity():
    ind = indicators_from_counts(Counts(entrees=3, heures_totales=9.0), None, None, None)
    assert ind["charges_totales"] is None and ind["cout_par_entree"] is None
    assert ind["cout_par_heure"] is None and ind["entrees_par_etp"] is None
    assert ind["taux_realisation"] is None
    zero = indicators_from_counts(Counts(entrees=3), {"etp_conseillers": 0}, {}, 0)
    assert zero["entrees_par_etp"] is None and zero["taux_realisation"] is None
    assert zero["charges_totales"] == 0.0


def test_aggregate_counts_not_percentages(db):
    by_version = counts_of(db, 1, 2, 99)
    a = indicators_from_counts(by_version[1])
    b = indicators_from_counts(by_version[2])
    region = indicators_from_counts(sum_counts([by_version[1], by_version[2]]))
    assert region == indicators_from_counts(by_version[99])
    # the mean of percentages would be wrong
    assert region["taux_information_seule"] == pytest.approx(3 / 6)
    assert (a["taux_information_seule"] + b["taux_information_seule"]) / 2 == 0.625
    assert region["taux_abandon"] == pytest.approx(3 / 6)
    assert (a["taux_abandon"] + b["taux_abandon"]) / 2 == pytest.approx(0.7)


def test_aggregate_means_finances_capacity(db):
    by_version = counts_of(db, 1, 2)
    moyens = sum_means([MOYENS_A, {"etp_conseillers": 1.0, "nb_conseillers": 1}, None])
    assert moyens["etp_conseillers"] == 3.0 and moyens["nb_conseillers"] == 4
    assert "delai_moyen_premier_rdv_jours" not in moyens     # a mean is not additive
    finances = sum_finances([FINANCES_A, {"PERSONNEL": 50000}, None])
    assert finances["PERSONNEL"] == 150000 and finances["SOUS_TRAITANCE"] == 0
    capacity = sum_capacity([5, None, 3])
    ind = indicators_from_counts(sum_counts(by_version.values()), moyens, finances, capacity)
    assert ind["entrees_par_etp"] == 2.0 and ind["taux_realisation"] == 6 / 8
    assert ind["charges_totales"] == 180000.0
    assert sum_means([None]) is None and sum_finances([]) is None and sum_capacity([]) is None


def test_counts_add_and_sum():
    a = Counts(entrees=1, heures_totales=1.5, distributions={"sexe": {"F": 1}})
    b = Counts(entrees=2, heures_totales=2.0, distributions={"sexe": {"F": 1, "H": 1}})
    total = a + b
    assert total.entrees == 3 and total.heures_totales == 3.5
    assert total.distributions == {"sexe": {"F": 2, "H": 1}}
    assert a.distributions == {"sexe": {"F": 1}}          # operands untouched
    assert sum_counts([]) == Counts()
    assert sum_counts([a, b]) == total
    c = Counts(sorties=4, heures_sorties=0.25, distributions={"type_sortie": {"ABANDON": 4}, "sexe": {"H": 2}})
    assert sum_counts([a, b, c, a]) == a + b + c + a == Counts(
        entrees=4, sorties=4, heures_totales=5.0, heures_sorties=0.25,
        distributions={"sexe": {"F": 3, "H": 3}, "type_sortie": {"ABANDON": 4}})
    assert sum_counts(iter([a, b])) == total and a.distributions == {"sexe": {"F": 1}}


def test_counts_round_trip_through_json(db):
    import json
    c = counts_of(db, 1)[1]
    assert Counts.from_dict(json.loads(json.dumps(c.to_dict()))) == c


def test_counts_by_version_returns_every_id_in_two_queries(db):
    conn, rows = db
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(conn, "before_cursor_execute", listener)
    try:
        result = counts_by_version(conn, rows, [1, 2, 3, 4, 5, 99, 1234], YEAR)
    finally:
        event.remove(conn, "before_cursor_execute", listener)
    assert len(statements) == 2
    assert result[1234] == Counts() and result[3] == Counts()
    assert counts_by_version(conn, rows, [], YEAR) == {}


def test_row_id_range_changes_how_rows_are_found_not_which(db):
    conn, rows = db
    ids = {vid: conn.execute(select(func.min(rows.c.id), func.max(rows.c.id))
                             .where(rows.c.workbook_version_id == vid)).one() for vid in (1, 2, 99)}
    for vid, (low, high) in ids.items():
        assert counts_by_version(conn, rows, [vid], YEAR, (low, high)) == counts_of(db, vid)
    # A range wider than the version (rows of other versions inside it) changes nothing.
    assert counts_by_version(conn, rows, [2], YEAR, (ids[1][0], ids[99][1])) == counts_of(db, 2)
    # Several versions at once, as the import never does but the function allows.
    both = counts_by_version(conn, rows, [1, 2], YEAR, (ids[1][0], ids[2][1]))
    assert both == counts_of(db, 1, 2)


def test_year_filter(db):
    c = counts_of(db, 1)
    conn, rows = db
    c2023 = counts_by_version(conn, rows, [1], 2023)[1]
    assert c2023.entrees == 1 and c2023.sorties == 0          # P3 entered in 2023
    assert c2023.parcours_actifs == c[1].parcours_actifs == 6


def frame_of(data: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(data)
    for col in ("date_entree", "date_sortie"):
        df[col] = pd.to_datetime(df[col])
    return df


def test_counts_from_frame_equals_database(db):
    df = frame_of(ROWS_A)
    assert df["satisfaction"].dtype == "float64" and df["date_sortie"].isna().any()
    assert counts_from_frame(df, YEAR) == counts_of(db, 1)[1]
    assert counts_from_frame(frame_of(ROWS_A + ROWS_B), YEAR) == counts_of(db, 99)[99]


def test_counts_from_empty_frame():
    df = pd.DataFrame(columns=list(BASE))
    assert counts_from_frame(df, YEAR) == Counts()


def test_share_helpers():
    assert share(1, 4) == 0.25 and share(0, 4) == 0.0
    assert share(3, 0) is None and share(None, 4) is None
    assert distribution_shares({"F": 1, "H": 3}, 4) == {"F": 0.25, "H": 0.75}
    assert distribution_shares({"F": 0}, 0) == {"F": None}
    assert charges_total({"PERSONNEL": 1.5, "AUTRES_PRODUITS": 99}) == 1.5


@pytest.mark.postgres
def test_same_counts_on_postgres(pg_url):
    # pg_url (tests/conftest.py) skips locally without a server and fails in CI.
    engine, metadata, versions, rows = make_db(pg_url)
    schema = f"test_indicators_{uuid.uuid4().hex[:8]}"
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            conn.execute(text(f'SET LOCAL search_path TO "{schema}"'))
            metadata.create_all(conn)
            insert(conn, versions, rows, 1, ROWS_A)
            insert(conn, versions, rows, 2, ROWS_B)
            result = counts_by_version(conn, rows, [1, 2], YEAR)
        assert result[1] == counts_from_frame(frame_of(ROWS_A), YEAR)
        assert result[2] == counts_from_frame(frame_of(ROWS_B), YEAR)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
