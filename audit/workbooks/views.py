"""Workbook pages: template download, upload (check or deposit) with its progress page
and report, versions. Indicators, alerts and the status board are in sibling modules
that add routes to the same blueprint."""
from __future__ import annotations

import io
import json

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import SelectField

from platform_core.security import upload_rate_limit
from platform_core.clock import today_paris
from platform_core.extensions import db
from platform_core.files import UploadRejected, read_stored, read_upload
from platform_core.forms import FrenchForm, select_choices
from platform_core.exports import XLSX_MIMETYPE, xlsx_response
from platform_core.roles import ACHETEUR, ADMIN, OPERATEUR, allow
from platform_core.ui import register_nav
from quality_framework.catalog import SCALAR_INDICATORS
from quality_framework.workbook import UnreadableWorkbook, read_workbook
from quality_framework.workbook.template import blank_template

from . import access, service
from .access import EVERYONE, OFFICERS
from .models import WorkbookUpload, WorkbookVersion
from .report import grouped

bp = Blueprint("workbooks", __name__, url_prefix="/bilans")
register_nav("Bilans d'activité", "audit.workbooks.index", set(EVERYONE), order=20)

XLSX_KINDS = ("xlsx", "ods")


def campaign_years() -> list[int]:
    """Years an operator may deposit for: the last three completed years and the current one."""
    this_year = today_paris().year
    return list(range(this_year, this_year - 4, -1))


def due_date(year: int):
    from datetime import date

    return date(year + 1, 3, 31)


# --------------------------------------------------------------------------- index

@bp.route("/")
@allow(*EVERYONE)
def index():
    contracts = access.visible_contracts(current_user)
    ids = [c.id for c in contracts]
    current = {}
    if ids:
        for v in db.session.scalars(select(WorkbookVersion).where(
                WorkbookVersion.contract_id.in_(ids), WorkbookVersion.is_current.is_(True))):
            current[(v.contract_id, v.year)] = v
    years = sorted({y for (_, y) in current} | {today_paris().year - 1}, reverse=True)
    return render_template("audit/workbooks/index.html", contracts=contracts, current=current,
                           years=years, can_deposit=current_user.has_role(OPERATEUR))


# --------------------------------------------------------------------------- template

@bp.route("/modele/<int:contract_id>")
@allow(OPERATEUR, ADMIN, ACHETEUR)
def template(contract_id: int):
    contract = access.contract_or_404(current_user, contract_id)
    try:
        year = int(request.args.get("annee", today_paris().year - 1))
    except ValueError:
        abort(404)
    if not 2000 <= year <= 2100:
        abort(404)
    data = blank_template(contract.operator.siret, contract.region_code, year)
    return xlsx_response(data, f"bilan-cep-{year}-{contract.reference}.xlsx")


# --------------------------------------------------------------------------- upload

class UploadForm(FrenchForm):
    contract_id = SelectField("Marché", coerce=int)
    year = SelectField("Année du bilan (N)", coerce=int)
    file = FileField("Classeur du bilan (.xlsx ou .ods)")


def _precise_reason(file_storage) -> str | None:
    """The workbook reader's own French reason for a refused file (old .xls, password,
    PDF, corrupt zip…), more helpful than the generic type message."""
    if file_storage is None or not file_storage.filename:
        return None
    max_bytes = current_app.config["MAX_UPLOAD_BYTES"]
    try:
        file_storage.stream.seek(0)
        data = file_storage.stream.read(max_bytes + 1)
    except (OSError, ValueError):
        return None
    if not data or len(data) > max_bytes:
        return None
    try:
        read_workbook(data, max_bytes=max_bytes)
    except UnreadableWorkbook as exc:
        return exc.message
    return None


@bp.route("/depot", methods=["GET", "POST"])
@allow(OPERATEUR)
@upload_rate_limit
def upload():
    contracts = [c for c in access.visible_contracts(current_user)
                 if c.operator_id == current_user.organisation_id]
    form = UploadForm()
    form.contract_id.choices = select_choices((c.id, f"{c.reference} — région {c.region_code}") for c in contracts)
    form.year.choices = select_choices((y, str(y)) for y in campaign_years())
    if request.method == "GET":
        if request.args.get("marche", "").isdigit():
            form.contract_id.data = int(request.args["marche"])
        form.year.data = today_paris().year - 1
    if not contracts:
        flash("Votre organisation n'a aucun marché : aucun bilan à déposer.", "warning")
        return render_template("audit/workbooks/upload.html", form=form, contracts=contracts), \
            (400 if request.method == "POST" else 200)
    if form.validate_on_submit():
        contract = access.own_contract_or_404(current_user, form.contract_id.data)
        year = form.year.data
        if not contract.covers_year(year):
            form.year.errors.append(f"Le marché {contract.reference} ne couvre pas l'année {year} "
                                    f"(du {contract.starts_on:%d/%m/%Y} au {contract.ends_on:%d/%m/%Y}).")
        else:
            try:
                data, kind = read_upload(request.files.get("file"), kinds=XLSX_KINDS)
            except UploadRejected as exc:
                form.file.errors.append(_precise_reason(request.files.get("file")) or str(exc))
            else:
                dry_run = request.form.get("action") != "deposer"
                job = service.create_upload(data, request.files["file"].filename, kind, contract,
                                            year, current_user, dry_run=dry_run)
                service.start_upload(job.id)
                return redirect(url_for(".job", upload_id=job.id))
    elif request.method == "POST" and not form.errors:
        form.contract_id.errors = ["Choisissez un de vos marchés."]
    status = 400 if request.method == "POST" else 200
    return render_template("audit/workbooks/upload.html", form=form, contracts=contracts), status


@bp.route("/traitements/<int:upload_id>")
@allow(OPERATEUR, ADMIN, ACHETEUR)
def job(upload_id: int):
    upload = access.upload_or_404(current_user, upload_id)
    groups = grouped(upload.report)
    annotation = service.annotation_state(upload)
    response = Response(render_template(
        "audit/workbooks/job.html", upload=upload, groups=groups,
        indicator_names=[n for n in SCALAR_INDICATORS], annotation=annotation,
        can_redeposit=upload.outcome == "valide" and service.upload_path(upload).exists(),
        annotate_limit=current_app.config.get("WORKBOOK_ANNOTATE_LIMIT", service.ANNOTATE_LIMIT)))
    if not upload.finished or annotation == "pending":
        response.headers["Refresh"] = "2"  # the page also carries <meta http-equiv="refresh">
    return response


@bp.route("/traitements/<int:upload_id>/deposer", methods=["POST"])
@allow(OPERATEUR)
def job_deposit(upload_id: int):
    """Deposit a file that a « vérifier sans déposer » found valid, without sending it again."""
    upload = access.upload_or_404(current_user, upload_id)
    contract = access.own_contract_or_404(current_user, upload.contract_id)
    path = service.upload_path(upload)
    if not upload.dry_run or upload.outcome != "valide" or not path.exists():
        flash("Ce classeur ne peut pas être déposé d'ici : déposez-le depuis le formulaire.", "error")
        return redirect(url_for(".upload", marche=contract.id))
    job = service.create_upload(path.read_bytes(), upload.filename, upload.kind, contract, upload.year,
                                current_user, dry_run=False)
    service.start_upload(job.id)
    return redirect(url_for(".job", upload_id=job.id))


@bp.route("/traitements/<int:upload_id>/rapport.json")
@allow(OPERATEUR, ADMIN, ACHETEUR)
def job_report(upload_id: int):
    upload = access.upload_or_404(current_user, upload_id)
    if upload.report is None:
        abort(404)
    body = json.dumps(upload.report, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="rapport-bilan-{upload.year}-{upload.id}.json"'})


@bp.route("/traitements/<int:upload_id>/annote.xlsx")
@allow(OPERATEUR, ADMIN, ACHETEUR)
def job_annotated(upload_id: int):
    upload = access.upload_or_404(current_user, upload_id)
    state = service.annotation_state(upload)
    if state != "ready":
        flash({"pending": "Le classeur annoté est en préparation : cette page se met à jour, réessayez dans un instant.",
               "failed": "Le classeur annoté n'a pas pu être produit ou n'est plus disponible (copies conservées "
                         "7 jours) : le rapport ci-dessous et le rapport JSON restent complets."}.get(
            state, "Aucun problème signalé : pas de classeur annoté."), "warning")
        return redirect(url_for(".job", upload_id=upload.id))
    stem = upload.filename.rsplit(".", 1)[0] or "bilan"
    return send_file(service.annotated_path(upload), mimetype=XLSX_MIMETYPE, as_attachment=True,
                     download_name=f"{stem}-annote.xlsx")


# --------------------------------------------------------------------------- versions

@bp.route("/marches/<int:contract_id>")
@allow(*EVERYONE)
def contract(contract_id: int):
    contract = access.contract_or_404(current_user, contract_id)
    versions = db.session.scalars(select(WorkbookVersion).where(WorkbookVersion.contract_id == contract.id)
                                  .order_by(WorkbookVersion.year.desc(), WorkbookVersion.number.desc())).all()
    uploads = []
    if current_user.has_role(*OFFICERS) or (current_user.has_role(OPERATEUR)
                                            and contract.operator_id == current_user.organisation_id):
        uploads = db.session.scalars(select(WorkbookUpload).where(WorkbookUpload.contract_id == contract.id)
                                     .order_by(WorkbookUpload.id.desc()).limit(30)).all()
    return render_template("audit/workbooks/contract.html", contract=contract, versions=versions,
                           uploads=uploads, years=campaign_years(), due_date=due_date)


@bp.route("/versions/<int:version_id>")
@allow(*EVERYONE)
def version(version_id: int):
    version = access.version_or_404(current_user, version_id)
    return redirect(url_for(".contract_indicators", contract_id=version.contract_id,
                            annee=version.year, version=version.id))


@bp.route("/versions/<int:version_id>/fichier")
@allow(OPERATEUR, ADMIN, ACHETEUR)
def version_file(version_id: int):
    version = access.version_or_404(current_user, version_id)
    if current_user.has_role(OPERATEUR) and not current_user.has_role(*OFFICERS) \
            and version.contract.operator_id != current_user.organisation_id:
        abort(404)
    stored = version.stored_file
    return send_file(io.BytesIO(read_stored(stored)), mimetype=stored.media_type, as_attachment=True,
                     download_name=stored.original_name or "bilan.xlsx")


from . import contract_views, indicators_views, status_views  # noqa: E402,F401  (routes on bp)
