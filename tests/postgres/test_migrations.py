"""Schema only through migrations: upgrade from an empty database, then
`flask db check` finds no drift between the models and the migrated schema —
on SQLite and on PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

ROOT = Path(__file__).resolve().parents[2]


def _flask(args, url, tmp_path):
    env = {**os.environ, "DATABASE_URL": url, "CEP_INSTANCE_DIR": str(tmp_path / "instance"),
           "SCHEDULER_ENABLED": "0"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def _upgrade_and_check(url, tmp_path):
    up = _flask(["db", "upgrade"], url, tmp_path)
    assert up.returncode == 0, up.stderr
    check = _flask(["db", "check"], url, tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    assert {"users", "organisations", "journal_entries", "alembic_version"} <= tables
    # the journal is append-only in the database itself
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO journal_entries (at, actor_label, action, object_type, object_id, summary) "
                          "VALUES (CURRENT_TIMESTAMP, 'test', 'essai', 'test', '1', 'x')"))
    for statement in ("UPDATE journal_entries SET summary = 'y'", "DELETE FROM journal_entries"):
        with pytest.raises(Exception, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(statement))
    engine.dispose()


def test_migrations_on_empty_sqlite(tmp_path):
    _upgrade_and_check(f"sqlite:///{tmp_path / 'empty.sqlite3'}", tmp_path)


@pytest.mark.postgres
def test_migrations_on_empty_postgresql(scratch_pg_url, tmp_path):
    _upgrade_and_check(scratch_pg_url, tmp_path)
