"""Base form: Flask-WTF (CSRF) with WTForms' built-in French messages."""
from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import SelectChoice


class FrenchForm(FlaskForm):
    class Meta:
        locales = ("fr_FR", "fr")


def select_choices(pairs: Iterable[tuple]) -> list[SelectChoice]:
    """(value, label) pairs as the options of a select field (WTForms 3.3 deprecated plain
    tuples; 3.4 drops them)."""
    return [SelectChoice(value, label) for value, label in pairs]
