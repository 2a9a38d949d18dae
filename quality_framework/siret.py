"""SIRET numbers: 14 digits whose Luhn checksum is valid."""
from __future__ import annotations

import re

_DIGITS = re.compile(r"^\d{14}$")


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def normalise_siret(value: str) -> str:
    """Remove spaces so that '123 456 789 00012' is accepted as typed."""
    return re.sub(r"\s+", "", str(value or ""))


def siret_error(value: str) -> str | None:
    """French message saying what is wrong with a SIRET, or None when it is valid."""
    siret = normalise_siret(value)
    if not _DIGITS.match(siret):
        return "Le SIRET doit comporter exactement 14 chiffres."
    if not luhn_valid(siret):
        return "Ce SIRET n'est pas valide : sa clé de contrôle (algorithme de Luhn) est fausse."
    return None


def is_valid_siret(value: str) -> bool:
    return siret_error(value) is None
