"""Base form: Flask-WTF (CSRF) with WTForms' built-in French messages."""
from flask_wtf import FlaskForm


class FrenchForm(FlaskForm):
    class Meta:
        locales = ("fr_FR", "fr")
