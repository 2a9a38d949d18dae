"""Fund-use formulas (spec/fund-use.md) at their boundaries."""
from __future__ import annotations

import pytest

from quality_framework.fund_use import (
    balance, charge_shares, euros_fr, explain_variable_earned, funding_gap, median,
    position_vs_median, split_price, variable_earned,
)

MAX = 20000.0


@pytest.mark.parametrize("realisation, satisfied, expected", [
    (0.0, 0.0, 0.0),
    (None, None, 0.0),                     # non calculable counts as 0
    (None, 0.85, 10000.0),
    (1.0, None, 10000.0),
    (1.0, 0.85, MAX),                      # both at target
    (1.3, 0.97, MAX),                      # above target: capped at variable_max
    (0.8, 0.85, 18000.0),
    (0.5, 0.425, 10000.0),                 # half of each target
    (1.0, 0.84, 10000 + 10000 * 0.84 / 0.85),
])
def test_variable_earned(realisation, satisfied, expected):
    assert variable_earned(MAX, realisation, satisfied) == pytest.approx(expected, abs=0.005)


def test_variable_earned_is_rounded_to_the_cent_and_target_is_a_parameter():
    assert variable_earned(MAX, 1.0, 0.84) == 19882.35
    assert variable_earned(MAX, 1.0, 0.8, satisfaction_target=0.8) == MAX
    with pytest.raises(ValueError):
        variable_earned(MAX, 1.0, 0.8, satisfaction_target=0)


def test_variable_earned_explanation():
    exp = explain_variable_earned(MAX, 0.9, None)
    assert exp["inputs"] == {"variable_max": MAX, "taux_realisation": 0.9,
                             "taux_satisfaits": None, "satisfaction_target": 0.85}
    assert exp["realisation_factor"] == 0.9 and exp["satisfaction_factor"] == 0.0
    assert exp["value"] == 9000.0
    assert "0,85" in exp["formula_fr"] and "non calculable" in exp["formula_fr"]


def test_split_price():
    assert split_price(100000) == (80000.0, 20000.0)
    split = split_price(100000.01)
    assert split.fixed == 80000.01 and split.variable_max == 20000.0
    assert split_price(100000, fixed_share=0.7).variable_max == 30000.0


def test_balance_due_overpaid_settled():
    due = balance(80000, 18000, {"FIXE": 80000, "VARIABLE": 10000})
    assert (due["earned"], due["paid_total"], due["balance"], due["status"]) == (
        98000.0, 90000.0, 8000.0, "DU")
    assert due["paid_by_kind"] == {"FIXE": 80000.0, "VARIABLE": 10000.0, "REGULARISATION": 0.0}
    assert due["label_fr"] == "Reste dû à l'opérateur : 8\u00a0000,00\u00a0€"
    over = balance(80000, 10000, {"FIXE": 80000, "VARIABLE": 20000})
    assert over["balance"] == -10000.0 and over["status"] == "TROP_PERCU"
    settled = balance(80000.1, 0.2, {"FIXE": 80000.2, "REGULARISATION": 0.1})
    assert settled["balance"] == 0.0 and settled["status"] == "SOLDE"
    refund = balance(80000, 0, {"FIXE": 90000, "REGULARISATION": -10000})
    assert refund["status"] == "SOLDE"


def test_funding_gap_at_two_percent():
    assert funding_gap(102000, 100000)["flagged"] is False          # exactly 2 %
    assert funding_gap(98000, 100000)["flagged"] is False
    above = funding_gap(102000.01, 100000)
    assert above["flagged"] is True and above["gap"] == 2000.01
    assert above["relative_gap"] == pytest.approx(0.0200001)
    assert funding_gap(97999.99, 100000)["flagged"] is True
    assert funding_gap(1020.10, 1000.10)["flagged"] is False         # no float drift


def test_funding_gap_with_nothing_paid_or_declared():
    none_paid = funding_gap(0, 0)
    assert none_paid["relative_gap"] is None and none_paid["flagged"] is False
    declared_only = funding_gap(10, 0)
    assert declared_only["relative_gap"] is None and declared_only["flagged"] is True
    undeclared = funding_gap(None, 5000)
    assert undeclared["gap"] is None and undeclared["flagged"] is False


def test_median():
    assert median([3, 1, 2]) == 2.0
    assert median([4, 1, 3, 2]) == 2.5
    assert median([None, 5, None, 1]) == 3.0
    assert median([]) is None and median([None]) is None


def test_position_vs_median():
    assert position_vs_median(150, 100) == {"ratio": 1.5, "label_fr": "au-dessus de la médiane"}
    assert position_vs_median(50, 100)["label_fr"] == "en dessous de la médiane"
    assert position_vs_median(100, 100) == {"ratio": 1.0, "label_fr": "égal à la médiane"}
    assert position_vs_median(None, 100) == {"ratio": None, "label_fr": "non calculable"}
    assert position_vs_median(5, None)["ratio"] is None
    assert position_vs_median(5, 0) == {"ratio": None, "label_fr": "au-dessus de la médiane"}


def test_charge_shares():
    shares = charge_shares({"PERSONNEL": 75, "LOCAUX": 25, "FINANCEMENT_FRANCE_COMPETENCES": 500})
    assert shares["PERSONNEL"] == 0.75 and shares["LOCAUX"] == 0.25
    assert shares["SOUS_TRAITANCE"] == 0.0 and "FINANCEMENT_FRANCE_COMPETENCES" not in shares
    assert set(charge_shares(None).values()) == {None}
    assert set(charge_shares({"AUTRES_PRODUITS": 3}).values()) == {None}


def test_euros_fr():
    assert euros_fr(1234.5) == "1\u00a0234,50\u00a0€"
    assert euros_fr(-12) == "-12,00\u00a0€"
