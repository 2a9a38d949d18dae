"""Referential versions stored in the database.

v1 is copied from the shipped YAML the first time it is needed; later versions come
from an edited xlsx export. An audit reads its grid from the stored content of the
version it recorded, never from the files, so past audits never change."""
from __future__ import annotations

from sqlalchemy import func, select

from platform_core import journal
from platform_core.extensions import db
from quality_framework.referential import (
    Referential,
    from_dict,
    import_referential_xlsx,
    load_version,
)

from .models import ReferentialVersion

_cache: dict[tuple[int, str], Referential] = {}


def referential_of(version: ReferentialVersion) -> Referential:
    """The Referential built from a stored version (cached: stored content never changes)."""
    key = (version.id, version.fingerprint)
    if key not in _cache:
        _cache[key] = from_dict(version.content)
    return _cache[key]


def ensure_seeded() -> ReferentialVersion:
    """The stored v1 (created from the shipped file when absent); returns the latest."""
    latest = latest_stored()
    if latest is not None:
        return latest
    ref = load_version(1)
    row = ReferentialVersion(number=ref.version, label=ref.label, content=ref.to_dict(),
                             fingerprint=ref.fingerprint(), source_filename="v1.yaml (livré avec la plateforme)")
    db.session.add(row)
    db.session.flush()
    journal.record("referentiel_version_creee", "referentiel_qualite", row.id,
                   f"Version {row.number} chargée depuis le fichier livré", after={"empreinte": row.fingerprint})
    return row


def latest_stored() -> ReferentialVersion | None:
    return db.session.scalar(select(ReferentialVersion).order_by(ReferentialVersion.number.desc()).limit(1))


def all_versions() -> list[ReferentialVersion]:
    ensure_seeded()
    return list(db.session.scalars(select(ReferentialVersion).order_by(ReferentialVersion.number)))


def next_number() -> int:
    return (db.session.scalar(select(func.max(ReferentialVersion.number))) or 0) + 1


def import_version(data: bytes, filename: str, user, stored_file=None) -> ReferentialVersion:
    """Validate an edited xlsx and store it as the next version. ReferentialError (with
    every problem, rows named) leaves the database untouched."""
    ensure_seeded()
    number = next_number()
    ref = import_referential_xlsx(data, number)
    row = ReferentialVersion(number=number, label=ref.label, content=ref.to_dict(),
                             fingerprint=ref.fingerprint(), imported_by_id=getattr(user, "id", None),
                             source_filename=filename[:255],
                             stored_file_id=getattr(stored_file, "id", None))
    db.session.add(row)
    db.session.flush()
    journal.record("referentiel_version_importee", "referentiel_qualite", row.id,
                   f"Version {number} importée depuis {filename}",
                   after={"version": number, "indicateurs": len(ref.leaves()), "empreinte": row.fingerprint})
    return row

