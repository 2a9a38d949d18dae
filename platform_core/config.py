"""Settings read from environment variables, with safe defaults for development."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(RuntimeError):
    """Raised at start-up when production settings are unsafe or missing."""


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} doit être un nombre entier, reçu « {raw} ».") from exc


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask config. `overrides` (tests) win over the environment."""
    env = os.environ.get("CEP_ENV", "development")
    instance = Path(os.environ.get("CEP_INSTANCE_DIR", ROOT / "instance"))
    cfg: dict = {
        "ENV_NAME": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL")
        or f"sqlite:///{instance / 'cep.sqlite3'}",
        "INSTANCE_DIR": str(instance),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR", str(instance / "files")),
        # Bounds on uploads: raw size, and decompressed size of xlsx/ods archives.
        "MAX_UPLOAD_BYTES": _int("MAX_UPLOAD_BYTES", 20 * 1024 * 1024),
        "MAX_DECOMPRESSED_BYTES": _int("MAX_DECOMPRESSED_BYTES", 200 * 1024 * 1024),
        # Rows per sheet and cells per sheet grid: a 200 000-row workbook passes; a file
        # just under both bounds costs ≈ 0.8 GB to read (docs/security-figures.md).
        "MAX_WORKBOOK_ROWS": _int("MAX_WORKBOOK_ROWS", 250_000),
        "MAX_WORKBOOK_CELLS": _int("MAX_WORKBOOK_CELLS", 6_000_000),
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": _int("SMTP_PORT", 25),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": os.environ.get("SMTP_STARTTLS", "0") == "1",
        "MAIL_SENDER": os.environ.get("MAIL_SENDER", "ne-pas-repondre@cep.example.gouv.fr"),
        "SCHEDULER_ENABLED": os.environ.get("SCHEDULER_ENABLED", "1") == "1",
        "LOGIN_MAX_FAILURES": _int("LOGIN_MAX_FAILURES", 5),
        "LOGIN_LOCK_MINUTES": _int("LOGIN_LOCK_MINUTES", 15),
        # Per client address, on top of the per-account lock-out.
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "20 per minute"),
        "UPLOAD_RATE_LIMIT": os.environ.get("UPLOAD_RATE_LIMIT", "30 per minute"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": _int("SESSION_MINUTES", 120) * 60,
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_I18N_ENABLED": False,  # WTForms' own French messages (see platform_core/forms.py)
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Quality audits: yearly planning day (MM-DD), corrective-action delays in months.
        "AUDIT_PLANNING_DAY": os.environ.get("AUDIT_PLANNING_DAY", "03-01"),
        "QUALITY_DUE_MONTHS": {"NC_MAJEURE": _int("QUALITY_DUE_MONTHS_MAJOR", 3),
                               "NC_MINEURE": _int("QUALITY_DUE_MONTHS_MINOR", 6)},
        "QUALITY_EVIDENCE_MAX_BYTES": _int("QUALITY_EVIDENCE_MAX_BYTES", 10 * 1024 * 1024),
    }
    cfg["MAX_CONTENT_LENGTH"] = cfg["MAX_UPLOAD_BYTES"] + 1024 * 1024  # form overhead
    if overrides:
        cfg.update(overrides)
    cfg["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(cfg["SQLALCHEMY_DATABASE_URI"])
    if cfg["ENV_NAME"] == "production":
        if not cfg.get("SECRET_KEY") or len(cfg["SECRET_KEY"]) < 32:
            raise ConfigurationError(
                "SECRET_KEY est obligatoire en production (au moins 32 caractères aléatoires)."
            )
        cfg["SESSION_COOKIE_SECURE"] = True
        cfg["REMEMBER_COOKIE_SECURE"] = True
    elif not cfg.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = "dev-only-secret-key-not-for-production"
    return cfg


def _normalise_db_url(url: str) -> str:
    # psycopg 3 is the driver we ship; accept the usual postgres:// spellings.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
