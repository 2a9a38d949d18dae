"""Audit rules: rating texts, weighted score (computed by hand), due dates, lifecycles."""
from __future__ import annotations

from datetime import date

import pytest

from quality_framework.audit_rules import (
    ACTION_INITIAL_STATE,
    ACTION_STATE_LABELS,
    AUDIT_STATE_LABELS,
    ActionState,
    AuditState,
    Rating,
    TransitionError,
    add_months,
    allowed_action_transitions,
    allowed_audit_transitions,
    audit_score,
    check_action_transition,
    check_transition,
    closure_errors,
    corrective_action_due_date,
    is_overdue,
    opens_corrective_action,
    rating_errors,
    submission_errors,
)
from quality_framework.referential import from_dict, load_version


def referential():
    """Two axes: A (A1 w1, A2 w2, A3 w3), B (B1 w1, B2 w4)."""

    def leaf(node_id, weight):
        return {"id": node_id, "parent": node_id[0], "title": f"Indicateur {node_id}",
                "requirement": "r", "evidence": "e", "weight": weight}

    return from_dict({
        "version": 3, "label": "Essai", "published_on": "2026-01-01",
        "nodes": [
            {"id": "A", "title": "Axe A", "requirement": "r", "evidence": "e"},
            leaf("A1", 1), leaf("A2", 2), leaf("A3", 3),
            {"id": "B", "title": "Axe B", "requirement": "r", "evidence": "e"},
            leaf("B1", 1), leaf("B2", 4),
        ],
    })


# ---------------------------------------------------------------- ratings


def test_rating_labels():
    assert [r.label for r in Rating] == [
        "Conforme", "Non-conformité mineure", "Non-conformité majeure", "Non applicable"
    ]


def test_conforme_needs_nothing():
    assert rating_errors("CONFORME", None, None) == []
    assert rating_errors(Rating.CONFORME, "", "") == []


@pytest.mark.parametrize("rating, label", [
    ("NC_MINEURE", "Non-conformité mineure"),
    ("NC_MAJEURE", "Non-conformité majeure"),
])
def test_non_conformity_needs_an_observation(rating, label):
    assert rating_errors(rating, "  ", None) == [
        f"une observation écrite est obligatoire pour la note « {label} »"
    ]
    assert rating_errors(rating, "Aucun registre des réclamations.", None) == []


def test_non_applicable_needs_observation_and_justification():
    assert rating_errors("NON_APPLICABLE", "Vu.", "Lot sans permanence physique prévue.") == []
    assert rating_errors("NON_APPLICABLE", None, None) == [
        "une observation écrite est obligatoire pour la note « Non applicable »",
        "la note « Non applicable » doit être justifiée : indiquer pourquoi l'exigence "
        "ne s'applique pas à cet opérateur",
    ]
    # The observation does not stand in for the justification.
    assert len(rating_errors("NON_APPLICABLE", "Vu.", "")) == 1


def test_unknown_or_missing_rating():
    assert rating_errors("BOF", "x") == [
        "note inconnue « BOF » (attendu : CONFORME, NC_MINEURE, NC_MAJEURE, NON_APPLICABLE)"
    ]
    assert rating_errors(None, "x") == ["aucune note choisie"]


def test_too_long_observation():
    assert rating_errors("NC_MINEURE", "x" * 10_001) == ["l'observation dépasse 10\u202f000 caractères"]


def test_opens_corrective_action():
    assert [opens_corrective_action(r) for r in Rating] == [False, True, True, False]


# ---------------------------------------------------------------- score


def test_score_by_hand_with_non_applicable_and_weights():
    ratings = {
        "A1": "CONFORME",        # w1
        "A2": "NC_MINEURE",      # w2
        "A3": "NON_APPLICABLE",  # w3, out of the denominator
        "B1": "CONFORME",        # w1
        "B2": "CONFORME",        # w4
    }
    result = audit_score(referential(), ratings)
    # applicable weights 1 + 2 + 1 + 4 = 8, conforme 1 + 1 + 4 = 6
    assert result.score == pytest.approx(6 / 8)
    assert result.by_axis == {"A": pytest.approx(1 / 3), "B": 1.0}
    assert result.minors == ["A2"] and result.majors == [] and not result.has_major
    assert result.not_applicable == ["A3"]
    assert result.unrated == [] and result.complete


def test_major_is_shown_whatever_the_score():
    ratings = {"A1": "NC_MAJEURE", "A2": "CONFORME", "A3": "CONFORME",
               "B1": "CONFORME", "B2": "CONFORME"}
    result = audit_score(referential(), ratings)
    assert result.score == pytest.approx(10 / 11)
    assert result.has_major and result.majors == ["A1"]


def test_unrated_leaves_are_left_out_and_listed():
    result = audit_score(referential(), {"A3": Rating.CONFORME, "B2": "NC_MINEURE", "A1": None})
    assert result.score == pytest.approx(3 / 7)
    assert result.unrated == ["A1", "A2", "B1"] and not result.complete
    assert result.by_axis == {"A": 1.0, "B": 0.0}


def test_no_applicable_leaf_gives_no_score():
    result = audit_score(referential(), {"A1": "NON_APPLICABLE"})
    assert result.score is None
    assert result.by_axis == {"A": None, "B": None}
    assert audit_score(referential(), {}).score is None


def test_score_refuses_ids_of_another_version():
    with pytest.raises(ValueError) as exc:
        audit_score(referential(), {"Z1": "CONFORME", "A": "CONFORME"})
    assert str(exc.value) == "indicateur(s) « A », « Z1 » absent(s) de la version 3 du référentiel"


def test_score_on_v1_uses_its_weights():
    ref = load_version(1)
    ratings = {leaf.id: "CONFORME" for leaf in ref.leaves()}
    ratings["A5"] = "NC_MINEURE"  # weight 2 out of 29
    result = audit_score(ref, ratings)
    assert result.score == pytest.approx(27 / 29)
    assert result.by_axis["A"] == pytest.approx(8 / 10)


def test_submission_errors():
    ref = referential()
    entries = {
        "A1": ("CONFORME", None, None),
        "A2": ("NC_MINEURE", "", None),
        "A3": ("NON_APPLICABLE", "Vu", "Hors périmètre"),
        "B1": ("CONFORME", None, None),
    }
    assert submission_errors(ref, entries) == [
        "A2 — Indicateur A2 : une observation écrite est obligatoire pour la note "
        "« Non-conformité mineure »",
        "B2 — Indicateur B2 : indicateur non noté",
    ]


# ---------------------------------------------------------------- due dates


def test_due_dates_default_months():
    assert corrective_action_due_date("NC_MAJEURE", date(2026, 3, 10)) == date(2026, 6, 10)
    assert corrective_action_due_date("NC_MINEURE", date(2026, 3, 10)) == date(2026, 9, 10)
    assert corrective_action_due_date("CONFORME", date(2026, 3, 10)) is None
    assert corrective_action_due_date("NON_APPLICABLE", date(2026, 3, 10)) is None


def test_due_dates_are_clamped_to_month_end():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert corrective_action_due_date("NC_MAJEURE", date(2026, 11, 30)) == date(2027, 2, 28)
    assert corrective_action_due_date("NC_MINEURE", date(2027, 8, 31)) == date(2028, 2, 29)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)


def test_due_date_parameters():
    params = {"NC_MAJEURE": 1, "NC_MINEURE": 2}
    assert corrective_action_due_date("NC_MAJEURE", date(2026, 1, 31), params) == date(2026, 2, 28)
    assert corrective_action_due_date("NC_MINEURE", date(2026, 1, 31), params) == date(2026, 3, 31)
    with pytest.raises(ValueError, match="délai en mois invalide"):
        corrective_action_due_date("NC_MAJEURE", date(2026, 1, 1), {"NC_MAJEURE": 0})


def test_is_overdue():
    due = date(2026, 6, 10)
    assert not is_overdue(due, date(2026, 6, 10), closed=False)
    assert is_overdue(due, date(2026, 6, 11), closed=False)
    assert not is_overdue(due, date(2026, 6, 11), closed=True)
    assert not is_overdue(None, date(2030, 1, 1), closed=False)


# ---------------------------------------------------------------- audit lifecycle


def test_audit_state_labels():
    assert [AUDIT_STATE_LABELS[s] for s in AuditState] == [
        "planifié", "en cours", "soumis", "validé", "clos"
    ]


@pytest.mark.parametrize("frm, to", [
    ("planifie", "en_cours"),
    ("en_cours", "soumis"),
    ("soumis", "en_cours"),
    ("soumis", "valide"),
    ("valide", "clos"),
])
def test_allowed_audit_transitions(frm, to):
    assert check_transition(frm, to) is None
    assert check_transition(AuditState(frm), AuditState(to)) is None


@pytest.mark.parametrize("frm, to", [
    ("planifie", "soumis"),
    ("planifie", "valide"),
    ("en_cours", "valide"),
    ("en_cours", "planifie"),
    ("valide", "en_cours"),
    ("valide", "soumis"),
    ("clos", "en_cours"),
    ("soumis", "clos"),
])
def test_forbidden_audit_transitions(frm, to):
    with pytest.raises(TransitionError):
        check_transition(frm, to)


def test_audit_transition_messages():
    with pytest.raises(TransitionError) as exc:
        check_transition("soumis", "clos")
    assert str(exc.value) == (
        "passage de « soumis » à « clos » impossible pour l'audit "
        "(possible depuis « soumis » : « en cours », « validé »)"
    )
    with pytest.raises(TransitionError, match="« clos » est un état final"):
        check_transition("clos", "valide")
    with pytest.raises(TransitionError, match="l'audit est déjà « en cours »"):
        check_transition("en_cours", "en_cours")
    with pytest.raises(TransitionError, match="état inconnu « fini »"):
        check_transition("valide", "fini")
    assert allowed_audit_transitions("soumis") == [AuditState.EN_COURS, AuditState.VALIDE]


def test_closure_needs_every_action_closed():
    assert closure_errors([]) == []
    assert closure_errors(["close", ActionState.CLOSE]) == []
    assert closure_errors(["close", "realisee", "acceptee"]) == [
        "2 action(s) corrective(s) non close(s)"
    ]


# ---------------------------------------------------------------- corrective actions


def test_action_state_labels():
    assert ACTION_INITIAL_STATE is ActionState.A_PROPOSER
    assert [ACTION_STATE_LABELS[s] for s in ActionState] == [
        "à proposer", "proposée", "acceptée", "renvoyée", "réalisée", "close"
    ]


def test_action_happy_path_and_return():
    check_action_transition("a_proposer", "proposee")
    check_action_transition("proposee", "renvoyee", comment="Échéancier trop vague.")
    check_action_transition("renvoyee", "proposee")
    check_action_transition("proposee", "acceptee")
    check_action_transition("acceptee", "realisee", has_evidence=True)
    check_action_transition("realisee", "acceptee", comment="La preuve ne couvre pas le site de Laon.")
    check_action_transition("realisee", "close")


@pytest.mark.parametrize("frm, to", [
    ("a_proposer", "acceptee"),
    ("a_proposer", "close"),
    ("proposee", "realisee"),
    ("acceptee", "close"),
    ("renvoyee", "acceptee"),
    ("close", "proposee"),
])
def test_forbidden_action_transitions(frm, to):
    with pytest.raises(TransitionError):
        check_action_transition(frm, to, has_evidence=True, comment="x")


def test_action_guards():
    with pytest.raises(TransitionError, match="joindre au moins une preuve"):
        check_action_transition("acceptee", "realisee")
    with pytest.raises(TransitionError, match="motif du renvoi"):
        check_action_transition("proposee", "renvoyee", comment=" ")
    with pytest.raises(TransitionError, match="motif du renvoi"):
        check_action_transition("realisee", "acceptee")
    with pytest.raises(TransitionError, match="« close » est un état final"):
        check_action_transition("close", "acceptee")
    assert allowed_action_transitions("proposee") == [ActionState.ACCEPTEE, ActionState.RENVOYEE]
