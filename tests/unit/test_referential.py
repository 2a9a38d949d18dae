"""Quality referential: shipped v1, validator messages, JSON and xlsx round trips."""
from __future__ import annotations

import copy
import io
import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from quality_framework.catalog import link_names
from quality_framework.referential import (
    Referential,
    ReferentialError,
    available_versions,
    export_referential_xlsx,
    from_dict,
    import_referential_xlsx,
    load_referential,
    load_version,
    validate_referential,
)
from quality_framework.referential.xlsx import neutralise, restore

SPEC_IDS = (
    ["A", "A1", "A2", "A3", "A4", "A5", "A6", "A7"]
    + ["B", "B1", "B2", "B3", "B4", "B5", "B6"]
    + ["C", "C1", "C2", "C3", "C4", "C5"]
    + ["D", "D1", "D2", "D3"]
    + ["E", "E1", "E2", "E3"]
    + ["F", "F1", "F2"]
)
SPEC_LINKS = {
    "B1": ("taux_information_seule",),
    "B3": ("taux_plan_action",),
    "B4": ("taux_document_synthese",),
    "B6": ("taux_abandon", "taux_parcours_courts"),
    "C1": ("repartition.departement",),
    "C2": ("repartition.canal",),
    "C3": ("moyens.heures_hors_temps_travail_hebdo",),
    "C4": ("repartition.rqth",),
    "C5": ("moyens.delai_moyen_premier_rdv_jours",),
    "D1": ("moyens.heures_formation_conseillers",),
    "E1": ("statut_bilan",),
    "E2": ("taux_reponse", "taux_satisfaits"),
}
SPEC_TITLES = {
    "A": "Principes d'action",
    "A5": "Neutralité et impartialité (aucune orientation intéressée vers une offre de formation)",
    "C1": "Présence physique dans chaque département du lot",
    "E1": "Remontée complète et dans les délais du bilan annuel",
    "F2": "Continuité de service lors d'un changement d'opérateur",
}


def small() -> dict:
    """A minimal valid referential in the YAML/JSON shape."""
    return {
        "version": 7,
        "label": "Essai",
        "published_on": "2026-01-15",
        "source": "tests",
        "description": "",
        "nodes": [
            {"id": "A", "title": "Axe A", "requirement": "Exigence A.", "evidence": "Preuves A."},
            {"id": "A1", "parent": "A", "title": "Indicateur A1", "requirement": "Exigence A1.",
             "evidence": "Preuves A1.", "weight": 1, "links": ["taux_abandon"]},
            {"id": "A2", "parent": "A", "title": "Indicateur A2", "requirement": "Exigence A2.",
             "evidence": "Preuves A2.", "weight": 2, "links": []},
        ],
    }


def errors_of(data: dict) -> list[str]:
    return validate_referential(data)


# ---------------------------------------------------------------- shipped v1


def test_v1_is_shipped_and_has_exactly_the_spec_tree():
    assert 1 in available_versions()
    ref = load_version(1)
    assert ref.version == 1
    assert isinstance(ref.published_on, date)
    assert ref.label and ref.source and ref.description
    assert [n.id for n in ref.nodes] == SPEC_IDS
    assert [a.id for a in ref.axes()] == list("ABCDEF")
    assert [leaf.id for leaf in ref.leaves()] == [i for i in SPEC_IDS if len(i) > 1]
    for leaf in ref.leaves():
        assert leaf.parent_id == leaf.id[0]
    for node_id, title in SPEC_TITLES.items():
        assert ref.node(node_id).title == title


def test_v1_links_are_the_spec_links_and_real_figures():
    ref = load_version(1)
    links = {n.id: n.links for n in ref.nodes if n.links}
    assert links == SPEC_LINKS
    assert set().union(*links.values()) <= link_names()


def test_v1_nodes_have_real_texts_and_sensible_weights():
    ref = load_version(1)
    for node in ref.nodes:
        assert len(node.requirement) > 60, node.id
        assert len(node.evidence) > 30, node.id
    for leaf in ref.leaves():
        assert leaf.weight == (2 if leaf.id in {"A5", "A6", "A7"} else 1)
    for axis in ref.axes():
        assert axis.weight is None
    assert ref.node("A").total_weight == 10


def test_load_version_is_cached_and_unknown_version_fails():
    assert load_version(1) is load_version(1)
    with pytest.raises(ReferentialError) as exc:
        load_version(999)
    assert "version 999 inconnue" in exc.value.errors[0]


def test_node_lookup_and_axis_of():
    ref = load_version(1)
    assert ref.axis_of("C4").id == "C"
    assert "B6" in ref and "Z9" not in ref
    with pytest.raises(KeyError):
        ref.node("Z9")


def test_json_round_trip_keeps_the_exact_version():
    ref = load_version(1)
    stored = json.loads(json.dumps(ref.to_dict()))
    again = Referential.from_dict(stored)
    assert again == ref
    assert again.fingerprint() == ref.fingerprint()
    assert from_dict(stored) == ref


def test_load_referential_accepts_path_text_and_bytes(tmp_path: Path):
    from quality_framework.referential.loader import _versions_dir

    text = _versions_dir().joinpath("v1.yaml").read_text(encoding="utf-8")
    path = tmp_path / "v1.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_referential(path) == load_version(1)
    assert load_referential(str(path)) == load_version(1)
    assert load_referential(text) == load_version(1)
    assert load_referential(text.encode("utf-8")) == load_version(1)
    with pytest.raises(ReferentialError, match="fichier introuvable"):
        load_referential(str(tmp_path / "absent.yaml"))


# ---------------------------------------------------------------- validator


def test_small_referential_is_valid():
    assert errors_of(small()) == []
    ref = from_dict(small())
    assert ref.node("A2").weight == 2
    assert ref.node("A").children == (ref.node("A1"), ref.node("A2"))


def test_duplicate_id():
    data = small()
    data["nodes"].append(copy.deepcopy(data["nodes"][1]))
    assert errors_of(data) == ["identifiant « A1 » en double : nœud n° 2 et nœud n° 4"]


def test_unknown_parent():
    data = small()
    data["nodes"][2]["parent"] = "Z"
    assert "nœud « A2 » : parent « Z » inexistant" in errors_of(data)


@pytest.mark.parametrize(
    "weight, message",
    [
        (0, 'nœud « A1 » : poids attendu > 0, trouvé "0"'),
        (-1, 'nœud « A1 » : poids attendu > 0, trouvé "-1"'),
        (-0.5, 'nœud « A1 » : poids attendu > 0, trouvé "-0.5"'),
        ("deux", 'nœud « A1 » : poids attendu : un nombre > 0, trouvé "deux"'),
        (True, 'nœud « A1 » : poids attendu : un nombre > 0, trouvé "True"'),
        (float("nan"), 'nœud « A1 » : poids attendu : un nombre > 0, trouvé "nan"'),
    ],
)
def test_bad_weight(weight, message):
    data = small()
    data["nodes"][1]["weight"] = weight
    assert errors_of(data) == [message]


def test_leaf_without_weight_and_axis_with_weight():
    data = small()
    del data["nodes"][1]["weight"]
    data["nodes"][0]["weight"] = 3
    assert errors_of(data) == [
        "nœud « A » : un axe ne porte pas de poids (seuls les indicateurs sont notés ; "
        "un axe pèse la somme de ses indicateurs)",
        "nœud « A1 » : champ obligatoire « weight » manquant "
        "(chaque indicateur noté doit avoir un poids)",
    ]


def test_unknown_link_with_suggestion():
    data = small()
    data["nodes"][1]["links"] = ["taux_abandons", "inexistant_xyz"]
    assert errors_of(data) == [
        "nœud « A1 » : indicateur lié inconnu « taux_abandons » (vouliez-vous dire « taux_abandon » ?)",
        "nœud « A1 » : indicateur lié inconnu « inexistant_xyz »",
    ]


def test_missing_title():
    data = small()
    del data["nodes"][2]["title"]
    assert errors_of(data) == ["nœud « A2 » : champ obligatoire « title » manquant"]
    data["nodes"][2]["title"] = "   "
    assert errors_of(data) == ["nœud « A2 » : champ obligatoire « title » manquant"]


def test_bad_yaml_names_the_line():
    text = "version: 1\nlabel: x\nnodes:\n  - id: A\n    title: [non fermé\n"
    with pytest.raises(ReferentialError) as exc:
        load_referential(text)
    assert len(exc.value.errors) == 1
    assert exc.value.errors[0].startswith("YAML invalide (ligne 6")


def test_yaml_indentation_error_is_in_french():
    with pytest.raises(ReferentialError) as exc:
        load_referential("version: 1\nlabel: x\n  published_on: 2026-01-01\n")
    assert exc.value.errors == ["YAML invalide (ligne 3, colonne 15) : « : » inattendu "
                                "(un texte contenant « : » doit être entre guillemets ?)"]


def test_repeated_yaml_key_is_refused():
    with pytest.raises(ReferentialError) as exc:
        load_referential("version: 1\nversion: 2\n")
    assert exc.value.errors == ["YAML invalide (ligne 2, colonne 1) : clé « version » répétée"]


def test_all_errors_are_collected_at_once():
    data = small()
    data["label"] = ""
    data["nodes"][1]["weight"] = 0
    data["nodes"][2]["links"] = ["nope_nope"]
    data["nodes"][2]["wieght"] = 1
    errors = errors_of(data)
    assert errors == [
        "métadonnée obligatoire « label » manquante",
        'nœud « A1 » : poids attendu > 0, trouvé "0"',
        "nœud « A2 » : champ inconnu « wieght »",
        "nœud « A2 » : indicateur lié inconnu « nope_nope »",
    ]
    with pytest.raises(ReferentialError) as exc:
        from_dict(data)
    assert exc.value.errors == errors


@pytest.mark.parametrize(
    "node_id", ["a1", "1A", "A 1", "A1-", "ÀB", "A" * 21, 12]
)
def test_id_pattern(node_id):
    data = small()
    data["nodes"][2]["id"] = node_id
    errors = errors_of(data)
    assert len(errors) == 1
    assert errors[0].startswith("nœud n° 3 : identifiant ")
    assert "invalide" in errors[0]


def test_structure_errors():
    assert errors_of([]) == [
        "le référentiel doit être un dictionnaire avec les clés version, label, published_on et nodes"
    ]
    data = small()
    data["nodes"] = []
    assert errors_of(data) == ["le référentiel doit contenir au moins un indicateur noté"]
    data = small()
    data["nodes"].append({"id": "B", "title": "Axe vide", "requirement": "r", "evidence": "e"})
    assert errors_of(data) == ["nœud « B » : un axe doit regrouper au moins un indicateur"]
    data = small()
    data["nodes"].append({"id": "A1X", "parent": "A1", "title": "t", "requirement": "r",
                          "evidence": "e", "weight": 1})
    assert [e for e in errors_of(data) if "profondeur" in e] == [
        "nœud « A1X » : profondeur maximale dépassée (le parent « A1 » est déjà un indicateur ; "
        "le référentiel a deux niveaux : axes et indicateurs)"
    ]


def test_parent_cycle():
    data = small()
    data["nodes"][0]["parent"] = "A2"
    assert "cycle de parents entre les nœuds « A », « A2 »" in errors_of(data)


def test_metadata_errors():
    data = small()
    data["version"] = 0
    data["published_on"] = "15/13/2026"
    data["extra"] = 1
    assert errors_of(data) == [
        "clé inconnue dans les métadonnées : « extra »",
        '« version » doit être un entier ≥ 1, trouvé "0"',
        '« published_on » doit être une date AAAA-MM-JJ, trouvé "15/13/2026"',
    ]


def test_loaded_referential_is_immutable():
    ref = load_version(1)
    with pytest.raises(Exception):
        ref.node("A1").weight = 5  # type: ignore[misc]


# ---------------------------------------------------------------- xlsx


def test_xlsx_round_trip_equals_original():
    ref = load_version(1)
    data = export_referential_xlsx(ref)
    assert import_referential_xlsx(data, 1) == ref
    assert import_referential_xlsx(data, 2) == replace(ref, version=2)


def test_xlsx_export_layout():
    ref = load_version(1)
    wb = load_workbook(io.BytesIO(export_referential_xlsx(ref)))
    assert wb.sheetnames == ["Référentiel", "Version"]
    ws = wb["Référentiel"]
    assert [c.value for c in ws[1]] == [
        "id", "parent", "titre", "exigence", "preuves attendues", "poids", "indicateurs liés"
    ]
    assert ws[1][0].font.bold
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["D"].width == 70
    assert ws.max_row == 1 + len(ref.nodes)
    row_b6 = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == "B6")
    assert row_b6[1] == "B" and row_b6[5] == 1
    assert row_b6[6] == "taux_abandon, taux_parcours_courts"
    meta = {r[0]: r[1] for r in wb["Version"].iter_rows(min_row=2, values_only=True)}
    assert meta["version"] == 1 and meta["libellé"] == ref.label


def _edit(data: bytes, edit) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    edit(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_xlsx_import_of_edited_workbook():
    ref = load_version(1)

    def edit(wb):
        ws = wb["Référentiel"]
        ws["C4"] = "Co-construction du projet (révisée)"  # row 4 is A2
        ws["F4"] = "1,5"  # French decimal comma typed as text
        wb["Version"]["B3"] = "Référentiel qualité CEP — version 2"
        ws.append([])  # blank rows are ignored

    new = import_referential_xlsx(_edit(export_referential_xlsx(ref), edit), 2)
    assert new.version == 2
    assert new.label == "Référentiel qualité CEP — version 2"
    assert new.node("A2").title == "Co-construction du projet (révisée)"
    assert new.node("A2").weight == 1.5
    assert load_version(1).node("A2").weight == 1  # the shipped version is untouched


def test_xlsx_import_bad_row_names_the_row():
    ref = load_version(1)

    def edit(wb):
        ws = wb["Référentiel"]
        assert ws["A7"].value == "A5"
        ws["F7"] = -1
        ws["G10"] = "taux_inconnu"  # row 10 is B
        ws["C11"] = None  # row 11 is B1

    with pytest.raises(ReferentialError) as exc:
        import_referential_xlsx(_edit(export_referential_xlsx(ref), edit), 2)
    assert exc.value.errors == [
        "ligne 7 : poids attendu > 0, trouvé \"-1\"",
        "ligne 10 : indicateur lié inconnu « taux_inconnu »",
        "ligne 11 : champ obligatoire « titre » manquant",
    ]


def test_xlsx_import_text_weight_and_duplicate_id():
    def edit(wb):
        ws = wb["Référentiel"]
        ws["F3"] = "deux"  # row 3 is A1
        ws["A4"] = "A1"  # row 4 was A2

    with pytest.raises(ReferentialError) as exc:
        import_referential_xlsx(_edit(export_referential_xlsx(load_version(1)), edit), 2)
    assert exc.value.errors == [
        "identifiant « A1 » en double : ligne 3 et ligne 4",
        'ligne 3 : poids attendu : un nombre > 0, trouvé "deux"',
    ]


def test_xlsx_import_structural_problems():
    with pytest.raises(ReferentialError, match="fichier illisible"):
        import_referential_xlsx(b"not a zip", 2)

    def drop_column(wb):
        wb["Référentiel"]["F1"] = "weight"

    with pytest.raises(ReferentialError) as exc:
        import_referential_xlsx(_edit(export_referential_xlsx(load_version(1)), drop_column), 2)
    assert exc.value.errors[0].startswith("onglet « Référentiel », ligne 1 : colonne(s) « poids » absente(s)")

    def drop_sheet(wb):
        del wb["Version"]

    with pytest.raises(ReferentialError) as exc:
        import_referential_xlsx(_edit(export_referential_xlsx(load_version(1)), drop_sheet), 2)
    assert exc.value.errors == ["onglet « Version » absent du classeur"]

    with pytest.raises(ReferentialError, match="numéro de nouvelle version invalide"):
        import_referential_xlsx(export_referential_xlsx(load_version(1)), 0)


def test_formula_injection_is_neutralised_in_export():
    data = small()
    data["nodes"][1]["title"] = '=HYPERLINK("http://evil.example","clic")'
    data["nodes"][1]["requirement"] = "+33 1 23 45 67 89"
    data["nodes"][1]["evidence"] = "@SUM(A1:A2)"
    data["nodes"][2]["requirement"] = "-1 point si absent"
    data["nodes"][2]["evidence"] = "'=déjà échappé"
    data["label"] = "=cmd|' /C calc'!A0"
    ref = from_dict(data)
    exported = export_referential_xlsx(ref)

    wb = load_workbook(io.BytesIO(exported))
    ws = wb["Référentiel"]
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str) and cell.value:
                assert cell.value[0] not in "=+-@"
    a1 = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "A1")
    assert a1[2].value == "'" + '=HYPERLINK("http://evil.example","clic")'
    assert a1[2].quotePrefix
    assert wb["Version"]["B3"].value == "'=cmd|' /C calc'!A0"
    # Neutralisation is reversible: the import gives the original texts back.
    assert import_referential_xlsx(exported, 7) == ref


@pytest.mark.parametrize("text", ["=1+1", "+x", "-x", "@x", "\tx", "'x", "''=x", "ok", "", "'"])
def test_neutralise_restore_inverse(text):
    assert restore(neutralise(text)) == text
    assert not neutralise(text).startswith(("=", "+", "-", "@"))


def test_cli_validates_shipped_versions_and_files(tmp_path: Path, capsys):
    from quality_framework.referential.__main__ import main

    assert main([]) == 0
    assert "v1 : version 1 valide (6 axes, 26 indicateurs)" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 0\nlabel: x\npublished_on: 2026-01-01\nnodes: []\n", encoding="utf-8")
    xlsx = tmp_path / "ref.xlsx"
    xlsx.write_bytes(export_referential_xlsx(load_version(1)))
    assert main([str(bad), str(xlsx)]) == 1
    out = capsys.readouterr().out
    assert f"{bad} : invalide" in out
    assert '  - « version » doit être un entier ≥ 1, trouvé "0"' in out
    assert f"{xlsx} : version 1 valide" in out


def test_xlsx_import_metadata_errors_name_the_version_sheet():
    def edit(wb):
        wb["Version"]["B3"] = None
        wb["Version"]["B4"] = "bientôt"

    with pytest.raises(ReferentialError) as exc:
        import_referential_xlsx(_edit(export_referential_xlsx(load_version(1)), edit), 2)
    assert exc.value.errors == [
        "métadonnée obligatoire « libellé » (onglet « Version ») manquante",
        '« date de publication » (onglet « Version ») doit être une date AAAA-MM-JJ, trouvé "bientôt"',
    ]
