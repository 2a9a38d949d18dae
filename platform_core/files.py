"""The file store: uploads bounded in size, typed by their content, kept on disk
under UPLOAD_DIR and addressed by SHA-256."""
from __future__ import annotations

import hashlib
import io
import os
import zipfile
import zlib
from pathlib import Path

from flask import current_app

from .extensions import db
from .models import StoredFile

KIND_LABELS = {
    "pdf": "PDF",
    "xlsx": "classeur Excel (.xlsx)",
    "ods": "classeur LibreOffice (.ods)",
    "docx": "document Word (.docx)",
    "odt": "document LibreOffice (.odt)",
    "png": "image PNG",
    "jpeg": "image JPEG",
}
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
    "png": "image/png",
    "jpeg": "image/jpeg",
}
DOCUMENT_KINDS = ("pdf", "docx", "odt", "xlsx", "ods", "png", "jpeg")


class UploadRejected(ValueError):
    """The message is French and says what was expected."""


def sniff_kind(data: bytes) -> str | None:
    """Recognise a file by its first bytes (and, for zip containers, their parts)."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
                if any(n.lower().endswith("vbaproject.bin") for n in names):
                    return None  # macro-enabled: never accepted
                if "mimetype" in names:
                    # Read a bounded prefix: a « mimetype » member can be a zip bomb.
                    with zf.open("mimetype") as member:
                        mimetype = member.read(100).decode("ascii", "replace").strip()
                    return {MEDIA_TYPES["ods"]: "ods", MEDIA_TYPES["odt"]: "odt"}.get(mimetype)
                if "[Content_Types].xml" in names:
                    if any(n.startswith("xl/") for n in names):
                        return "xlsx"
                    if any(n.startswith("word/") for n in names):
                        return "docx"
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, zlib.error):
            return None  # damaged or unsupported archive: not one of our types
    return None


def expected_kinds_text(kinds) -> str:
    return ", ".join(KIND_LABELS[k] for k in kinds)


def read_upload(file_storage, kinds=DOCUMENT_KINDS, max_bytes: int | None = None) -> tuple[bytes, str]:
    """Read an uploaded file within the size bound and check its type by content."""
    max_bytes = max_bytes or current_app.config["MAX_UPLOAD_BYTES"]
    if file_storage is None or not getattr(file_storage, "filename", ""):
        raise UploadRejected("Aucun fichier reçu : choisissez un fichier à déposer.")
    data = file_storage.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadRejected(
            f"Le fichier dépasse la taille maximale autorisée ({max_bytes // (1024 * 1024)} Mo)."
        )
    if not data:
        raise UploadRejected("Le fichier est vide.")
    kind = sniff_kind(data)
    if kind not in kinds:
        raise UploadRejected(
            "Type de fichier non accepté : le contenu ne correspond à aucun des formats "
            f"attendus ({expected_kinds_text(kinds)})."
        )
    return data, kind


def storage_path(sha256: str) -> Path:
    root = Path(current_app.config["UPLOAD_DIR"])
    return root / sha256[:2] / sha256


def store_bytes(data: bytes, original_name: str, kind: str, uploaded_by=None) -> StoredFile:
    """Write the bytes once per content (atomic rename) and record this upload."""
    digest = hashlib.sha256(data).hexdigest()
    path = storage_path(digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    record = StoredFile(
        sha256=digest,
        size=len(data),
        original_name=os.path.basename(original_name or "fichier")[:255],
        media_type=MEDIA_TYPES.get(kind, "application/octet-stream"),
        uploaded_by_id=getattr(uploaded_by, "id", None),
    )
    db.session.add(record)
    return record


def read_stored(record: StoredFile) -> bytes:
    return storage_path(record.sha256).read_bytes()


def verify_stored(record: StoredFile) -> bool:
    """True when the bytes on disk still hash to the recorded SHA-256."""
    path = storage_path(record.sha256)
    if not path.exists():
        return False
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest() == record.sha256
