"""Activity-workbook validator: one test per rule of shared/spec/activity-workbook.md.

Workbooks are built here from literal rows (test_workbook_helpers, which does not import
the contract) and written to disk as .xlsx (openpyxl) or .ods (pandas/odfpy)."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from quality_framework.workbook import validate_workbook
from quality_framework.workbook.reader import RawWorkbook
from tests.unit.test_workbook_helpers import (
    BASE_ROW, FINANCES, HEADERS, MOYENS, OTHER_SIRET, REGION, SIRET, YEAR, ben_row,
    identification, sheets, write_ods, write_xlsx,
)


def validate(tmp_path, content, *, fmt="xlsx", **kwargs):
    path = tmp_path / f"bilan.{fmt}"
    (write_xlsx if fmt == "xlsx" else write_ods)(path, content)
    options = dict(expected_siret=SIRET, allowed_regions={REGION}, year=YEAR)
    options.update(kwargs)
    return validate_workbook(path, **options)


def codes(problems):
    return [p.code for p in problems]


def only(problems, code):
    found = [p for p in problems if p.code == code]
    assert found, f"{code} absent de {[(p.code, p.message) for p in problems]}"
    return found


def check_rows(tmp_path, rows, **kwargs):
    return validate(tmp_path, sheets(rows), **kwargs)


# ------------------------------------------------------------------ valid files --

@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_valid_workbook_gives_typed_normalised_data(tmp_path, fmt):
    rows = [
        ben_row(1, duree_heures="12,5", csp=5, secteur_naf=" g "),
        ben_row(2, date_sortie=None, type_sortie=None, satisfaction=None, date_entree="15/03/2020"),
        ben_row(3, statut="INDEPENDANT", secteur_naf=None, taille_entreprise="SO", departement=1,
                date_entree="2024-02-01", date_sortie="2024-02-01"),
    ]
    result = validate(tmp_path, sheets(rows), fmt=fmt)
    assert result.errors == [] and result.valid
    assert result.lines == {"Beneficiaires": 3}
    assert result.identification == {"siret": SIRET, "code_region": "84", "annee": 2024,
                                      "contact_email": "bilan@operateur.fr"}
    assert result.moyens["etp_conseillers"] == 12.5 and result.moyens["nb_conseillers"] == 15.0
    assert result.finances["PERSONNEL"] == 450000.0 and result.finances["LOCAUX"] == 30000.5
    assert result.finances["COMMUNICATION"] == 0.0  # missing poste counts as 0
    df = result.beneficiaries
    assert list(df.columns) == HEADERS + ["row_number"]
    assert df["row_number"].tolist() == [2, 3, 4]  # spreadsheet rows, below the header
    assert pd.api.types.is_datetime64_any_dtype(df["date_entree"])
    assert pd.api.types.is_datetime64_any_dtype(df["date_sortie"])
    assert df["niveau_max"].dtype == "int64" and df["nb_entretiens"].dtype == "int64"
    assert df["duree_heures"].tolist() == [12.5, 4.5, 4.5]
    assert df["satisfaction"].dtype == "float64" and pd.isna(df["satisfaction"][1])
    assert df["date_entree"].tolist() == [pd.Timestamp(2024, 3, 15), pd.Timestamp(2020, 3, 15),
                                          pd.Timestamp(2024, 2, 1)]
    assert pd.isna(df["date_sortie"][1])
    assert df["type_sortie"][1] is None and df["secteur_naf"][2] is None
    assert df["secteur_naf"][0] == "G" and df["csp"][0] == "5" and df["departement"][2] == "01"


def test_sheet_and_header_names_ignore_case_accents_and_spaces(tmp_path):
    headers = [" ID_PARCOURS ", "Date_Entrée"] + [h.upper() for h in HEADERS[2:]]
    content = sheets(headers=HEADERS, benef_name="  Bénéficiaires ")
    content["  Bénéficiaires "][0] = headers
    content = {"IDENTIFICATION": content["Identification"], "  Bénéficiaires ": content["  Bénéficiaires "],
               "moyens": MOYENS, " Finances": FINANCES}
    result = validate(tmp_path, content)
    assert result.errors == [], result.to_text()
    assert result.lines == {"Beneficiaires": 2}


def test_row_numbers_and_letters_follow_the_file_with_shuffled_columns_and_blank_rows(tmp_path):
    shuffled = ["sexe", "date_entree"] + [h for h in HEADERS if h not in ("sexe", "date_entree")]
    grid = [shuffled, [None] * len(shuffled)]  # row 2 blank
    grid.append([ben_row(1)[h] for h in shuffled])  # row 3 valid
    grid.append([None] * len(shuffled))  # row 4 blank
    grid.append([ben_row(2, sexe="X", date_entree="2024-13-01")[h] for h in shuffled])  # row 5
    content = sheets()
    content["Beneficiaires"] = grid
    result = validate(tmp_path, content)
    assert result.lines == {"Beneficiaires": 2}
    sexe = only(result.errors, "CODE_INCONNU")[0]
    assert (sexe.feuille, sexe.ligne, sexe.colonne, sexe.lettre, sexe.valeur) == ("Beneficiaires", 5, "sexe", "A", "X")
    date = only(result.errors, "TYPE_INVALIDE")[0]
    assert (date.ligne, date.colonne, date.lettre, date.valeur) == (5, "date_entree", "B", "2024-13-01")
    assert "JJ/MM/AAAA" in date.message


def test_data_starting_further_right_keeps_original_letters(tmp_path):
    content = sheets([ben_row(1, sexe="Z")])
    content["Beneficiaires"] = [[None, None] + row for row in content["Beneficiaires"]]
    problem = only(validate(tmp_path, content).errors, "CODE_INCONNU")[0]
    assert (problem.ligne, problem.lettre) == (2, "F")


# ---------------------------------------------------------- structure --

def test_missing_sheet(tmp_path):
    content = sheets()
    del content["Moyens"]
    problem = only(validate(tmp_path, content).errors, "FEUILLE_MANQUANTE")[0]
    assert problem.feuille == "Moyens" and problem.ligne is None


def test_missing_column(tmp_path):
    headers = [h for h in HEADERS if h != "canal"]
    problem = only(validate(tmp_path, sheets(headers=headers)).errors, "COLONNE_MANQUANTE")[0]
    assert problem.colonne == "canal" and problem.feuille == "Beneficiaires"


def test_unknown_column_is_a_warning(tmp_path):
    content = sheets()
    content["Beneficiaires"][0].append("commentaire")
    content["Beneficiaires"][1].append("RAS")
    result = validate(tmp_path, content)
    assert result.errors == []
    warning = only(result.warnings, "COLONNE_INCONNUE")[0]
    assert (warning.ligne, warning.lettre, warning.colonne) == (1, "U", "commentaire")


# ------------------------------------------------------------- personal data --

@pytest.mark.parametrize("header", ["nom", "Prénom", " TELEPHONE ", "E-mail", "date_naissance", "NIR"])
def test_personal_data_column_is_an_error(tmp_path, header):
    content = sheets()
    content["Beneficiaires"][0].append(header)
    content["Beneficiaires"][1].append("x")
    result = validate(tmp_path, content)
    problem = only(result.errors, "DONNEE_PERSONNELLE")[0]
    assert (problem.ligne, problem.lettre) == (1, "U")
    assert "COLONNE_INCONNUE" not in codes(result.warnings)


def test_email_in_any_cell_is_an_error_except_contact_email(tmp_path):
    content = sheets([ben_row(1), ben_row(2, motif="jean.dupont@example.fr")])
    content["Notes"] = [["remarque"], ["écrire à marie@exemple.org"]]
    result = validate(tmp_path, content)
    found = only(result.errors, "DONNEE_PERSONNELLE")
    assert {(p.feuille, p.ligne, p.lettre) for p in found} == {("Beneficiaires", 3, "M"), ("Notes", 2, "A")}
    assert all("@" not in p.valeur or "•" in p.valeur for p in found)  # masked in the report
    assert "dupont" not in str(result.to_json())


@pytest.mark.parametrize("nir", ["1850578006084", "1 85 05 78 006 084 36", "285057800608436",
                                 "NIR : 7 85 05 78 006 084", "8850578006084"])
def test_nir_in_a_cell_is_an_error(tmp_path, nir):
    content = sheets()
    content["Moyens"] = MOYENS + [["commentaire", nir]]
    problem = only(validate(tmp_path, content).errors, "DONNEE_PERSONNELLE")[0]
    assert (problem.feuille, problem.ligne, problem.lettre) == ("Moyens", 9, "B")
    assert "006" not in (problem.valeur or "")


def test_nir_typed_as_a_number_is_an_error(tmp_path):
    content = sheets([ben_row(1, duree_heures=1850578006084)])
    assert "DONNEE_PERSONNELLE" in codes(validate(tmp_path, content).errors)


@pytest.mark.parametrize("value", ["3850578006084", "185057800608", "12345678901234", "P2024000000001",
                                   "06 12 34 56 78"])
def test_not_a_nir(tmp_path, value):
    content = sheets()
    content["Notes"] = [["remarque"], [value]]
    assert "DONNEE_PERSONNELLE" not in codes(validate(tmp_path, content).errors)


# -------------------------------------------------------------------- dates --

@pytest.mark.parametrize("value", [dt.date(2019, 1, 1), "01/01/2019", "2019-01-01", "1/1/2019",
                                   dt.datetime(2024, 12, 31, 15, 30), "31/12/2024"])
def test_date_entree_accepted(tmp_path, value):
    result = check_rows(tmp_path, [ben_row(1, date_entree=value, date_sortie=None, type_sortie=None,
                                           satisfaction=None)])
    assert result.errors == [], result.to_text()


@pytest.mark.parametrize("value", [dt.date(2018, 12, 31), "31/12/2018", "01/01/2025", "2025-01-01"])
def test_date_entree_outside_period(tmp_path, value):
    problem = only(check_rows(tmp_path, [ben_row(1, date_entree=value, date_sortie=None,
                                                 type_sortie=None, satisfaction=None)]).errors,
                   "DATE_HORS_PERIODE")[0]
    assert "01/01/2019" in problem.message and "31/12/2024" in problem.message


@pytest.mark.parametrize("value", ["2024/03/15", "15-03-2024", "31/02/2024", "15/03/24", "mars 2024", 45366])
def test_date_wrong_format(tmp_path, value):
    problem = only(check_rows(tmp_path, [ben_row(1, date_entree=value)]).errors, "TYPE_INVALIDE")[0]
    assert problem.colonne == "date_entree"
    assert "Date attendue au format JJ/MM/AAAA ou AAAA-MM-JJ" in problem.message


def test_empty_required_cell(tmp_path):
    problem = only(check_rows(tmp_path, [ben_row(1, date_entree=None)]).errors, "VALEUR_MANQUANTE")[0]
    assert (problem.colonne, problem.ligne) == ("date_entree", 2)


def test_date_sortie_after_year_end(tmp_path):
    result = check_rows(tmp_path, [ben_row(1, date_sortie="01/01/2025")])
    assert only(result.errors, "DATE_HORS_PERIODE")[0].colonne == "date_sortie"


def test_date_sortie_before_date_entree(tmp_path):
    result = check_rows(tmp_path, [ben_row(1, date_entree="10/03/2024", date_sortie="09/03/2024"),
                                   ben_row(2, date_entree="10/03/2024", date_sortie="10/03/2024")])
    problems = only(result.errors, "SORTIE_INCOHERENTE")
    assert [(p.ligne, p.colonne) for p in problems] == [(2, "date_sortie")]
    assert "10/03/2024" in problems[0].message


def test_type_sortie_exactly_when_date_sortie(tmp_path):
    result = check_rows(tmp_path, [ben_row(1, type_sortie=None),
                                   ben_row(2, date_sortie=None, satisfaction=None)])
    assert [(p.ligne, p.code) for p in result.errors] == [(2, "SORTIE_INCOHERENTE"), (3, "SORTIE_INCOHERENTE")]


def test_satisfaction_only_on_closed_paths(tmp_path):
    result = check_rows(tmp_path, [ben_row(1, date_sortie=None, type_sortie=None, satisfaction=5)])
    assert codes(result.errors) == ["SATISFACTION_SUR_PARCOURS_OUVERT"]


# -------------------------------------------------------------- numbers, codes --

@pytest.mark.parametrize("value,code", [(0, "VALEUR_HORS_BORNES"), (6, "VALEUR_HORS_BORNES"),
                                        (3.5, "TYPE_INVALIDE"), ("bien", "TYPE_INVALIDE"),
                                        (1, None), (5, None), ("4", None)])
def test_satisfaction_bounds(tmp_path, value, code):
    result = check_rows(tmp_path, [ben_row(1, satisfaction=value)])
    assert codes(result.errors) == ([code] if code else [])


@pytest.mark.parametrize("value,code", [(-1, "VALEUR_HORS_BORNES"), (0, None), ("2,5", "TYPE_INVALIDE"),
                                        ("trois", "TYPE_INVALIDE"), (" 7 ", None)])
def test_nb_entretiens(tmp_path, value, code):
    assert codes(check_rows(tmp_path, [ben_row(1, nb_entretiens=value)]).errors) == ([code] if code else [])


@pytest.mark.parametrize("value,code", [(-0.5, "VALEUR_HORS_BORNES"), (0, None), ("12,5", None),
                                        ("1 234,5", None), ("12.5", None), ("1.234,5", "TYPE_INVALIDE"),
                                        ("abc", "TYPE_INVALIDE")])
def test_duree_heures(tmp_path, value, code):
    result = check_rows(tmp_path, [ben_row(1, duree_heures=value, niveau_max=2)])
    assert codes(result.errors) == ([code] if code else [])


@pytest.mark.parametrize("value,code", [(0, "CODE_INCONNU"), (4, "CODE_INCONNU"), (1, None), (3, None),
                                        ("deux", "TYPE_INVALIDE")])
def test_niveau_max(tmp_path, value, code):
    result = check_rows(tmp_path, [ben_row(1, niveau_max=value, duree_heures=2)])
    assert codes(result.errors) == ([code] if code else [])


@pytest.mark.parametrize("column,value", [("sexe", " f "), ("statut", "cdi"), ("tranche_age", "55+"),
                                          ("csp", 6), ("niveau_qualification", "sans"), ("departement", "2a"),
                                          ("departement", 971), ("departement", 1), ("motif", "Demission"),
                                          ("canal", "visio"), ("rqth", "o"), ("secteur_naf", "u")])
def test_codes_ignore_case_and_spaces(tmp_path, column, value):
    assert check_rows(tmp_path, [ben_row(1, **{column: value})]).errors == []


@pytest.mark.parametrize("column,value", [("sexe", "M"), ("tranche_age", "15-24"), ("csp", 7),
                                          ("niveau_qualification", "2"), ("taille_entreprise", "XL"),
                                          ("secteur_naf", "V"), ("departement", "20"), ("motif", "AUTRE"),
                                          ("canal", "COURRIER"), ("document_synthese", "OUI"),
                                          ("type_sortie", "FIN")])
def test_unknown_code(tmp_path, column, value):
    problem = only(check_rows(tmp_path, [ben_row(1, **{column: value})]).errors, "CODE_INCONNU")[0]
    assert problem.colonne == column and problem.message.startswith("Code inconnu")


def test_code_message_lists_labels(tmp_path):
    problem = only(check_rows(tmp_path, [ben_row(1, canal="X")]).errors, "CODE_INCONNU")[0]
    assert "PRESENTIEL (Présentiel)" in problem.message


def test_secteur_naf_may_be_empty_only_for_independants(tmp_path):
    result = check_rows(tmp_path, [ben_row(1, secteur_naf=None),
                                   ben_row(2, secteur_naf=None, statut="INDEPENDANT")])
    problems = only(result.errors, "VALEUR_MANQUANTE")
    assert [(p.ligne, p.colonne) for p in problems] == [(2, "secteur_naf")]
    assert len(result.errors) == 1


@pytest.mark.parametrize("value,ok", [("A" * 40, True), ("A" * 41, False), ("P 01", False),
                                      ("é01", False), ("p_01-x", True), (123, True)])
def test_id_parcours_format(tmp_path, value, ok):
    result = check_rows(tmp_path, [ben_row(1, id_parcours=value)])
    assert codes(result.errors) == ([] if ok else ["TYPE_INVALIDE"])


def test_duplicates_name_the_first_row(tmp_path):
    rows = [ben_row(1), ben_row(2), ben_row(1), ben_row(3), ben_row(1), ben_row(2)]
    problems = only(check_rows(tmp_path, rows).errors, "DOUBLON")
    assert [(p.ligne, p.valeur) for p in problems] == [(4, "P-0001"), (6, "P-0001"), (7, "P-0002")]
    assert "ligne 2" in problems[0].message and "ligne 2" in problems[1].message
    assert "ligne 3" in problems[2].message


# ---------------------------------------------------------------- Identification --

@pytest.mark.parametrize("kwargs,code,colonne", [
    ({"siret": OTHER_SIRET}, "IDENTIFICATION_INCORRECTE", "siret"),
    ({"siret": "73282932000075"}, "SIRET_INVALIDE", "siret"),
    ({"siret": "7328293200007"}, "SIRET_INVALIDE", "siret"),
    ({"region": "11"}, "IDENTIFICATION_INCORRECTE", "code_region"),
    ({"region": "99"}, "CODE_INCONNU", "code_region"),
    ({"year": 2023}, "IDENTIFICATION_INCORRECTE", "annee"),
    ({"year": "24"}, "TYPE_INVALIDE", "annee"),
    ({"email": "pas-une-adresse"}, "TYPE_INVALIDE", "contact_email"),
])
def test_identification_mismatch(tmp_path, kwargs, code, colonne):
    result = validate(tmp_path, sheets(ident=identification(**kwargs)))
    assert [(p.code, p.colonne, p.feuille, p.lettre) for p in result.errors] == [(code, colonne, "Identification", "B")]


def test_identification_tolerates_presentation(tmp_path):
    ident = [["Champ", "Valeur"], ["SIRET", "732 829 320 00074"], ["code_region", 84],
             ["annee", "2024"], ["contact_email", " bilan@operateur.fr "]]
    result = validate(tmp_path, sheets(ident=ident))
    assert result.errors == [], result.to_text()
    assert result.identification["siret"] == SIRET and result.identification["code_region"] == "84"


def test_identification_missing_and_duplicate_fields(tmp_path):
    ident = identification()[:4] + [["siret", SIRET]]  # contact_email missing, siret twice
    result = validate(tmp_path, sheets(ident=ident))
    assert only(result.errors, "CHAMP_MANQUANT")[0].colonne == "contact_email"
    assert only(result.errors, "DOUBLON")[0].ligne == 5


# ---------------------------------------------------------------- Moyens, Finances --

@pytest.mark.parametrize("field,value,code", [("etp_conseillers", 0, "VALEUR_HORS_BORNES"),
                                              ("etp_conseillers", "0,5", None),
                                              ("nb_conseillers", 0, "VALEUR_HORS_BORNES"),
                                              ("nb_conseillers", 2.5, "TYPE_INVALIDE"),
                                              ("nb_sites_permanents", 0, None),
                                              ("delai_moyen_premier_rdv_jours", -1, "VALEUR_HORS_BORNES")])
def test_moyens_bounds(tmp_path, field, value, code):
    moyens = [row if row[0] != field else [field, value] for row in MOYENS]
    result = validate(tmp_path, sheets(moyens=moyens))
    assert codes(result.errors) == ([code] if code else [])


@pytest.mark.parametrize("rows,code", [([["PERSONNEL", 1], ["personnel ", 2]], "DOUBLON"),
                                       ([["PERSONNEL", 10.123]], "TYPE_INVALIDE"),
                                       ([["PERSONNEL", "10,12"]], None),
                                       ([["PERSONNEL", -1]], "VALEUR_HORS_BORNES"),
                                       ([["LOYER", 1]], "CODE_INCONNU")])
def test_finances(tmp_path, rows, code):
    result = validate(tmp_path, sheets(finances=[["poste", "montant_eur"]] + rows))
    assert codes(result.errors) == ([code] if code else [])


# ----------------------------------------------------------------- warnings --

def test_departement_outside_contract_region_is_a_warning(tmp_path):
    result = check_rows(tmp_path, [ben_row(1, departement="75"), ben_row(2)], contract_region="84")
    assert result.errors == []
    warning = only(result.warnings, "DEPARTEMENT_HORS_REGION")
    assert [(w.ligne, w.lettre) for w in warning] == [(2, "L")]


def test_duree_niveau1_over_10_hours_is_a_warning(tmp_path):
    rows = [ben_row(1, niveau_max=1, duree_heures=10), ben_row(2, niveau_max=1, duree_heures="10,5"),
            ben_row(3, niveau_max=2, duree_heures=40)]
    result = check_rows(tmp_path, rows)
    assert result.errors == []
    assert [(w.ligne, w.colonne) for w in only(result.warnings, "DUREE_NIVEAU1_ELEVEE")] == [(3, "duree_heures")]


@pytest.mark.parametrize("answers,warned", [(0, True), (1, False)])
def test_low_survey_response_rate(tmp_path, answers, warned):
    rows = [ben_row(i, satisfaction=None) for i in range(1, 11)]  # 10 exits
    for row in rows[:answers]:
        row["satisfaction"] = 4
    result = check_rows(tmp_path, rows)
    assert result.errors == []
    assert ("TAUX_REPONSE_FAIBLE" in codes(result.warnings)) is warned


# ------------------------------------------------------- formulas, report shapes --

def test_formula_without_cached_value_is_reported(tmp_path):
    result = check_rows(tmp_path, [ben_row(1, nb_entretiens="=1+2")])
    problem = only(result.errors, "FORMULE_SANS_VALEUR")[0]
    assert (problem.ligne, problem.lettre, problem.colonne) == (2, "O", "nb_entretiens")


def test_report_json_and_text(tmp_path):
    result = check_rows(tmp_path, [ben_row(1, sexe="X"), ben_row(2, niveau_max=1, duree_heures=11)])
    report = result.to_json()
    assert set(report) == {"erreurs", "avertissements", "lignes"}
    assert report["lignes"] == {"Beneficiaires": 2}
    entry = report["erreurs"][0]
    assert entry == {"feuille": "Beneficiaires", "ligne": 2, "colonne": "sexe", "lettre": "D",
                     "valeur": "X", "code": "CODE_INCONNU", "message": entry["message"]}
    assert report["avertissements"][0]["valeur"] == "11"
    text = result.to_text()
    assert "1 erreur" in text and "CODE_INCONNU" in text and "ligne 2" in text


def test_sixty_thousand_errors_all_reported():
    # Built directly as a grid (as the reader returns it) so the test stays fast; the
    # timing target is measured by bench/workbook_import.py, not asserted here.
    n = 60_000
    ident = pd.DataFrame(identification(), dtype=object)
    grid = [list(HEADERS)] + [[BASE_ROW[h] for h in HEADERS] for _ in range(n)]
    for i in range(1, n + 1):
        grid[i][0] = f"P-{i}"
        grid[i][3] = "X"  # sexe
    raw = RawWorkbook("xlsx", {"Identification": ident, "Beneficiaires": pd.DataFrame(grid, dtype=object),
                               "Moyens": pd.DataFrame(MOYENS, dtype=object),
                               "Finances": pd.DataFrame(FINANCES, dtype=object)})
    result = validate_workbook(raw, expected_siret=SIRET, allowed_regions={REGION}, year=YEAR)
    report = result.to_json()
    assert len(report["erreurs"]) == n and result.lines == {"Beneficiaires": n}
    assert {e["ligne"] for e in report["erreurs"]} == set(range(2, n + 2))


def test_empty_beneficiaires_sheet_reports_every_missing_column(tmp_path):
    content = sheets()
    content["Beneficiaires"] = []
    result = validate(tmp_path, content)
    missing = only(result.errors, "COLONNE_MANQUANTE")
    assert len(missing) == 20 and result.lines == {"Beneficiaires": 0}


def test_header_after_blank_rows_keeps_file_row_numbers(tmp_path):
    content = sheets([ben_row(1, rqth="peut-être")])
    content["Beneficiaires"] = [[None], [None]] + content["Beneficiaires"]
    problem = only(validate(tmp_path, content).errors, "CODE_INCONNU")[0]
    assert (problem.ligne, problem.lettre) == (4, "F")


def test_valid_rows_carry_their_spreadsheet_row_across_blank_rows(tmp_path):
    content = sheets([ben_row(1), ben_row(2), ben_row(3)])
    header, first, second, third = content["Beneficiaires"]
    content["Beneficiaires"] = [[None], [None], header, first, [None], second, [None], [None], third]
    result = validate(tmp_path, content)
    assert result.errors == []
    assert result.beneficiaries["row_number"].tolist() == [4, 6, 9]
    assert result.beneficiaries["id_parcours"].tolist() == [first[0], second[0], third[0]]


def test_numeric_region_codes_from_callers(tmp_path):
    result = check_rows(tmp_path, [ben_row(1, departement="75")], allowed_regions={84}, contract_region=84)
    assert result.errors == [] and codes(result.warnings) == ["DEPARTEMENT_HORS_REGION"]


@pytest.mark.slow
def test_two_hundred_thousand_rows_validate_completely():
    n = 200_000
    grid = [list(HEADERS)] + [[BASE_ROW[h] for h in HEADERS] for _ in range(n)]
    for i in range(1, n + 1):
        grid[i][0] = f"P-{i}"
        grid[i][15] = "12,5" if i % 7 == 0 else 4.5
    raw = RawWorkbook("xlsx", {"Identification": pd.DataFrame(identification(), dtype=object),
                               "Beneficiaires": pd.DataFrame(grid, dtype=object),
                               "Moyens": pd.DataFrame(MOYENS, dtype=object),
                               "Finances": pd.DataFrame(FINANCES, dtype=object)})
    result = validate_workbook(raw, expected_siret=SIRET, allowed_regions={REGION}, year=YEAR)
    assert result.errors == [] and len(result.beneficiaries) == n
    assert result.beneficiaries["duree_heures"].tolist()[6] == 12.5  # "12,5" read as a number
