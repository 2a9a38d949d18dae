"""The backup and restore procedure of the README, run once for real: a migrated
PostgreSQL database and the file store are backed up, wiped, restored, and checked."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres


def _run(args, env):
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_backup_then_restore_postgres_and_files(scratch_pg_url, tmp_path):
    url = scratch_pg_url
    files = tmp_path / "files"
    env = {**os.environ, "DATABASE_URL": url, "UPLOAD_DIR": str(files),
           "CEP_INSTANCE_DIR": str(tmp_path / "instance"), "SCHEDULER_ENABLED": "0"}
    _run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], env)
    _run([sys.executable, "-m", "flask", "--app", "wsgi", "create-admin", "--email", "sauvegarde@test.example.fr"], env)
    content = b"%PDF-1.4 document de test"
    digest = hashlib.sha256(content).hexdigest()
    (files / digest[:2]).mkdir(parents=True)
    (files / digest[:2] / digest).write_bytes(content)

    _run(["scripts/backup.sh", str(tmp_path / "backup")], env)
    # disaster: data and files lost
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM user_roles"))
        conn.execute(text("DELETE FROM users"))
    shutil.rmtree(files)
    _run(["scripts/restore.sh", str(tmp_path / "backup")], env)
    with engine.connect() as conn:
        emails = conn.execute(text("SELECT email FROM users")).scalars().all()
        journal = conn.execute(text("SELECT count(*) FROM journal_entries")).scalar()
    engine.dispose()
    assert emails == ["sauvegarde@test.example.fr"] and journal >= 1
    assert (files / digest[:2] / digest).read_bytes() == content
    # a damaged backup restores nothing
    with open(tmp_path / "backup" / "files.tar.gz", "ab") as fh:
        fh.write(b"x")
    bad = subprocess.run(["scripts/restore.sh", str(tmp_path / "backup")], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "altérée" in bad.stderr
