"""Password hashing (argon2) and the password policy."""
from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the account does not exist, so that timing tells nothing.
_DUMMY_HASH = _hasher.hash("compte-inexistant-pour-egaliser-le-temps")

MIN_LENGTH = 12


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def policy_errors(password: str, email: str = "") -> list[str]:
    errors = []
    if len(password) < MIN_LENGTH:
        errors.append(f"Le mot de passe doit comporter au moins {MIN_LENGTH} caractères.")
    classes = sum([
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    ])
    if classes < 3:
        errors.append(
            "Le mot de passe doit mélanger au moins trois types de caractères parmi : "
            "minuscules, majuscules, chiffres, caractères spéciaux."
        )
    local = email.split("@")[0].lower()
    if local and len(local) >= 4 and local in password.lower():
        errors.append("Le mot de passe ne doit pas contenir votre identifiant.")
    return errors


def temporary_password() -> str:
    """A random password meeting the policy, to hand over once."""
    return "Tmp-" + secrets.token_urlsafe(12) + "9a"
