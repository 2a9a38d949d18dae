"""The referential tree, its xlsx export and the import of an edited export as a new
version (validated first: on any error nothing is stored)."""
from __future__ import annotations

import io
import zipfile
import zlib

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from platform_core.security import upload_rate_limit
from platform_core.exports import xlsx_response
from platform_core.extensions import db
from platform_core.files import UploadRejected, read_upload, store_bytes
from platform_core.roles import ACHETEUR, ADMIN, AUDITEUR, OBSERVATEUR, OPERATEUR, allow
from quality_framework.referential import ReferentialError, export_referential_xlsx

from .models import ReferentialVersion
from .referentials import all_versions, import_version, referential_of
from .services import is_officer
from .views import bp

IMPORT_MAX_BYTES = 5 * 1024 * 1024
IMPORT_MAX_INFLATED = 50 * 1024 * 1024


def check_archive(data: bytes) -> None:
    """Refuse an xlsx that inflates past a bound (measured while inflating, headers are
    not trusted) or declares a DOCTYPE/ENTITY in an XML part, before openpyxl reads it."""
    limit = int(current_app.config.get("QUALITY_REFERENTIAL_MAX_INFLATED", IMPORT_MAX_INFLATED))
    total = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                head = b""
                with zf.open(info) as fh:
                    while chunk := fh.read(65536):
                        if len(head) < 2048:
                            head += chunk[:2048]
                        total += len(chunk)
                        if total > limit:
                            raise UploadRejected(
                                f"Classeur refusé : son contenu décompressé dépasse {limit // (1024 * 1024) or 1} Mo.")
                if info.filename.endswith((".xml", ".rels")) and (b"<!DOCTYPE" in head or b"<!ENTITY" in head):
                    raise UploadRejected("Classeur refusé : déclaration DOCTYPE ou ENTITY interdite dans le fichier.")
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError):
        raise UploadRejected("Classeur illisible : ce n'est pas un fichier xlsx valide.") from None


def _page(selected: ReferentialVersion | None = None, errors=None, status=200):
    versions = all_versions()
    selected = selected or versions[-1]
    return render_template("audit/quality/referential.html", versions=versions, selected=selected,
                           ref=referential_of(selected), errors=errors or [],
                           officer=is_officer(current_user)), status


@bp.route("/referentiel")
@allow(ADMIN, ACHETEUR, AUDITEUR, OPERATEUR, OBSERVATEUR)
def referential():
    number = request.args.get("version", type=int)
    selected = None
    if number is not None:
        all_versions()
        selected = db.session.query(ReferentialVersion).filter_by(number=number).one_or_none()
        if selected is None:
            abort(404)
    page = _page(selected)
    db.session.commit()  # v1 may have just been seeded
    return page


@bp.route("/referentiel/<int:number>.xlsx")
@allow(ADMIN, ACHETEUR)
def referential_export(number: int):
    all_versions()
    version = db.session.query(ReferentialVersion).filter_by(number=number).one_or_none()
    if version is None:
        abort(404)
    db.session.commit()
    return xlsx_response(export_referential_xlsx(referential_of(version)), f"referentiel-qualite-v{number}.xlsx")


@bp.route("/referentiel/import", methods=["POST"])
@allow(ADMIN, ACHETEUR)
@upload_rate_limit
def referential_import():
    upload = request.files.get("file")
    try:
        data, kind = read_upload(upload, ("xlsx",), IMPORT_MAX_BYTES)
        check_archive(data)
        version = import_version(data, upload.filename, current_user)
    except UploadRejected as exc:
        db.session.rollback()
        return _page(errors=[str(exc)], status=400)
    except ReferentialError as exc:
        db.session.rollback()
        return _page(errors=exc.errors, status=400)
    stored = store_bytes(data, upload.filename, kind, current_user)
    db.session.flush()
    version.stored_file_id = stored.id
    db.session.commit()
    flash(f"Version {version.number} du référentiel importée ({len(referential_of(version).leaves())} indicateurs). "
          "Les audits existants gardent leur version.", "success")
    return redirect(url_for("audit.quality.referential", version=version.number))
