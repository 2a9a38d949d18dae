"""Account and organisation forms (Flask-WTF: CSRF on every form)."""
from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Email, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from quality_framework.siret import siret_error

from ..forms import FrenchForm, select_choices
from ..models import ORGANISATION_KINDS
from ..roles import ROLES

REQUIRED = "Ce champ est obligatoire."


class LoginForm(FrenchForm):
    email = EmailField("Adresse électronique", validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField("Mot de passe", validators=[DataRequired(REQUIRED), Length(max=200)])


class ChangePasswordForm(FrenchForm):
    current = PasswordField("Mot de passe actuel", validators=[DataRequired(REQUIRED)])
    new = PasswordField("Nouveau mot de passe", validators=[DataRequired(REQUIRED), Length(max=200)])
    confirm = PasswordField("Confirmation du nouveau mot de passe", validators=[DataRequired(REQUIRED)])

    def validate_confirm(self, field):
        if field.data != self.new.data:
            raise ValidationError("La confirmation ne correspond pas au nouveau mot de passe.")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _region_choices():
    from quality_framework.reference import regions

    return select_choices([("", "— national / sans objet —")] + [(c, r.name) for c, r in regions().items()])


class UserForm(FrenchForm):
    email = EmailField(
        "Adresse électronique",
        validators=[DataRequired(REQUIRED), Email("Adresse électronique invalide (ex. : prenom.nom@exemple.fr)."),
                    Length(max=254, message="254 caractères au maximum.")],
    )
    full_name = StringField("Nom complet", validators=[DataRequired(REQUIRED),
                                                       Length(max=120, message="120 caractères au maximum.")])
    roles = MultiCheckboxField("Rôles", choices=select_choices(ROLES.items()))
    organisation_id = SelectField("Organisation", coerce=str, default="")
    region_code = SelectField("Périmètre régional (observateurs)", default="")
    active = BooleanField("Compte actif", default=True)

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation_id.choices = select_choices([("", "— aucune —")] + [
            (str(o.id), f"{o.name} ({o.siret})") for o in organisations])
        self.region_code.choices = _region_choices()

    def validate_roles(self, field):
        if not field.data:
            raise ValidationError("Choisissez au moins un rôle.")

    def validate_organisation_id(self, field):
        if "operateur" in (self.roles.data or []) and not field.data:
            raise ValidationError("Un utilisateur opérateur doit être rattaché à une organisation.")


class OrganisationForm(FrenchForm):
    siret = StringField("SIRET", validators=[DataRequired(REQUIRED), Length(max=20)])
    name = StringField("Raison sociale", validators=[DataRequired(REQUIRED),
                                                     Length(max=200, message="200 caractères au maximum.")])
    kind = SelectField("Type", choices=select_choices(ORGANISATION_KINDS.items()))
    region_code = SelectField("Région", default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.region_code.choices = _region_choices()

    def validate_siret(self, field):
        error = siret_error(field.data)
        if error:
            raise ValidationError(error)
