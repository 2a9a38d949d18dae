"""Payments: record by form, import from xlsx (all or nothing), reverse by a
regularisation. There is deliberately no route that edits or deletes a payment."""
from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import DateField, DecimalField, FileField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from platform_core.security import upload_rate_limit
from platform_core.clock import today_paris
from platform_core.extensions import db
from platform_core.files import UploadRejected, read_upload, store_bytes
from platform_core.forms import FrenchForm, select_choices
from platform_core import journal
from platform_core.roles import ACHETEUR, ADMIN, allow
from tenders.models import Contract

from .models import PAYMENT_KIND_LABELS, Payment
from .payment_import import COLUMNS, check_payments_file
from .services import payment_problems, record_payment, reversal_problem, reverse_payment
from .views import bp

OFFICERS = (ADMIN, ACHETEUR)


class FrenchDecimalField(DecimalField):
    """Accepts « 20 000,50 » as typed in France (comma, spaces) as well as 20000.50."""

    def process_formdata(self, valuelist):
        if valuelist:
            valuelist = [str(valuelist[0]).replace("\u00a0", "").replace("\u202f", "")
                         .replace(" ", "").replace("€", "").replace(",", ".")]
        super().process_formdata(valuelist)


class PaymentForm(FrenchForm):
    paid_on = DateField("Date du paiement", validators=[DataRequired(
        "Date absente ou invalide : attendu une date JJ/MM/AAAA.")])
    amount = FrenchDecimalField("Montant (€)", places=2, validators=[InputRequired(
        "Montant absent ou invalide : attendu un nombre en euros.")])
    kind = SelectField("Nature", choices=select_choices(
        (k, v.capitalize()) for k, v in PAYMENT_KIND_LABELS.items()))
    year = IntegerField("Année de rattachement", validators=[InputRequired(
        "Année absente ou invalide : attendu une année sur quatre chiffres.")])
    reference = StringField("Référence (mandat, bordereau…)", validators=[Optional(), Length(max=80)])


class ImportForm(FrenchForm):
    file = FileField("Fichier des paiements (.xlsx)")


class ReverseForm(FrenchForm):
    reference = StringField("Référence de la régularisation", validators=[Optional(), Length(max=80)])


@bp.route("/paiements")
@allow(*OFFICERS)
def payments():
    rows = db.session.scalars(select(Payment).order_by(Payment.recorded_at.desc(), Payment.id.desc())
                              .limit(500)).all()
    reversed_ids = set(db.session.scalars(select(Payment.reverses_payment_id)
                                          .where(Payment.reverses_payment_id.isnot(None))))
    return render_template("audit/fund_use/payments.html", payments=rows,
                           reversed_ids=reversed_ids, reverse_form=ReverseForm())


@bp.route("/contrat/<int:contract_id>/paiements/nouveau", methods=["GET", "POST"])
@allow(*OFFICERS)
def new_payment(contract_id: int):
    contract = db.session.get(Contract, contract_id)
    if contract is None:
        abort(404)
    form = PaymentForm()
    if request.method == "GET":
        form.year.data = today_paris().year
        form.paid_on.data = today_paris()
    problems: list[str] = []
    if form.validate_on_submit():
        amount = Decimal(str(form.amount.data))
        found = payment_problems(contract, form.paid_on.data, amount, form.kind.data,
                                 form.year.data)
        if not found:
            payment = record_payment(contract, form.paid_on.data, amount, form.kind.data,
                                     form.year.data, form.reference.data or "", current_user)
            db.session.commit()
            flash(f"Paiement n° {payment.id} enregistré.", "success")
            return redirect(url_for("audit.fund_use.contract", contract_id=contract.id,
                                    annee=payment.year))
        problems = [message for _, message in found]
    elif request.method == "POST":
        problems = ["Le formulaire contient des erreurs : rien n'a été enregistré."]
    status = 400 if request.method == "POST" else 200
    return render_template("audit/fund_use/payment_form.html", form=form, contract=contract,
                           problems=problems), status


@bp.route("/paiements/<int:payment_id>/annuler", methods=["POST"])
@allow(*OFFICERS)
def reverse(payment_id: int):
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        abort(404)
    form = ReverseForm()
    if not form.validate_on_submit():
        flash("Formulaire invalide : rien n'a été enregistré.", "error")
        return redirect(url_for("audit.fund_use.payments"))
    problem = reversal_problem(payment)
    if problem:
        flash(problem + " Rien n'a été enregistré.", "error")
    else:
        regularisation = reverse_payment(payment, current_user, form.reference.data or "")
        db.session.commit()
        flash(f"Paiement n° {payment.id} annulé par la régularisation n° {regularisation.id}.",
              "success")
    return redirect(url_for("audit.fund_use.contract", contract_id=payment.contract_id,
                            annee=payment.year))


@bp.route("/paiements/import", methods=["GET", "POST"])
@allow(*OFFICERS)
@upload_rate_limit
def import_payments():
    form = ImportForm()
    result = None
    error = None
    if request.method == "POST":
        if not form.validate_on_submit():
            error = "Le formulaire a expiré : rechargez la page. Rien n'a été enregistré."
        else:
            try:
                data, kind = read_upload(request.files.get("file"), kinds=("xlsx",))
            except UploadRejected as exc:
                error = str(exc) + " Rien n'a été enregistré."
            else:
                result = check_payments_file(data)
                if result.ok:
                    stored = store_bytes(data, request.files["file"].filename, kind, current_user)
                    db.session.flush()
                    origin = f"import du fichier {stored.original_name}, sha256 {stored.sha256[:12]}…"
                    for row in result.rows:
                        record_payment(row["contract"], row["paid_on"], row["amount"],
                                       row["kind"], row["year"], row["reference"], current_user,
                                       origin=f"{origin} ligne {row['row']}")
                    journal.record("paiements_importes", "fichier", stored.id,
                                   f"{len(result.rows)} paiements importés depuis "
                                   f"{stored.original_name}", after={"sha256": stored.sha256})
                    db.session.commit()
                    flash(f"{len(result.rows)} paiement(s) importé(s).", "success")
                    return redirect(url_for("audit.fund_use.payments"))
    status = 400 if (error or (result and not result.ok)) else 200
    return render_template("audit/fund_use/payment_import.html", form=form, result=result,
                           error=error, columns=COLUMNS), status
