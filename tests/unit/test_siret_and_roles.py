from quality_framework.siret import is_valid_siret, luhn_valid, siret_error
from platform_core.roles import ANY_USER, PUBLIC, allow, rule_admits

import pytest


@pytest.mark.parametrize("siret", ["73282932000074", "732 829 320 00074", "99900000000011"])
def test_valid_sirets(siret):
    assert is_valid_siret(siret)


def test_luhn_key_checked_by_hand():
    # 7 3 2 8 2 9 3 2 0 0 0 0 7 4: doubling every second digit from the right
    # gives a sum of 40, a multiple of 10.
    assert luhn_valid("73282932000074")
    assert not luhn_valid("73282932000075")


@pytest.mark.parametrize("value, fragment", [
    ("7328293200007", "14 chiffres"),
    ("732829320000745", "14 chiffres"),
    ("7328293200007A", "14 chiffres"),
    ("", "14 chiffres"),
    ("73282932000075", "clé de contrôle"),
])
def test_invalid_sirets_have_french_reasons(value, fragment):
    assert fragment in siret_error(value)


def test_rules():
    assert rule_admits(frozenset({"acheteur"}), {"acheteur", "auditeur"}, True)
    assert not rule_admits(frozenset({"acheteur"}), {"operateur"}, True)
    assert not rule_admits(frozenset({"acheteur"}), {"acheteur"}, False)
    assert rule_admits(frozenset({ANY_USER}), set(), True)
    assert not rule_admits(frozenset({ANY_USER}), set(), False)
    assert rule_admits(frozenset({PUBLIC}), set(), False)


def test_unknown_role_in_declaration_is_refused():
    with pytest.raises(ValueError):
        allow("superuser")
    with pytest.raises(ValueError):
        allow()
