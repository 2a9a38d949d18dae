"""Crash safety: a workbook import killed mid-way (SIGKILL while its rows are being
copied in: 20 000 of 40 000 already written to the COPY) against PostgreSQL leaves no
partial data, and the next deposit works."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres

CHILD = r"""
import sys
import time
from datetime import date
from decimal import Decimal
from sqlalchemy import event
from platform_core import create_app
from platform_core.extensions import db
from platform_core.models import Organisation
from tenders.models import Contract
from audit.workbooks import service
from audit.workbooks.generator import generate_workbook

url, rows, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SCHEDULER_ENABLED": False, "TESTING": True})
with app.app_context():
    if mode == "setup":
        db.create_all()
        org = Organisation(siret="99900000001001", name="Opérateur crash (test)", kind="OPERATEUR", region_code="53")
        db.session.add(org)
        db.session.flush()
        db.session.add(Contract(reference="CEP-CRASH-53", operator_id=org.id, region_code="53",
                                starts_on=date(2024, 1, 1), ends_on=date(2027, 12, 31),
                                annual_capacity=1000, annual_price=Decimal("600000")))
        db.session.commit()
        sys.exit(0)
    contract = db.session.query(Contract).one()
    data = generate_workbook(siret=contract.operator.siret, region_code="53", year=2025, n_rows=rows, seed=7)
    result = service.check(data, contract, 2025)
    assert result.valid, result.to_text(5)

    @event.listens_for(db.engine, "before_cursor_execute")
    def announce(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO BENEFICIARY_ROWS"):
            print("INSERTING", flush=True)

    # PostgreSQL imports with COPY: once 20 000 of the 40 000 rows have gone into it
    # (uncommitted), announce and hold the transaction open until the parent kills us.
    import psycopg

    write_row = psycopg.Copy.write_row
    written = []

    def held_write_row(self, row):
        written.append(1)
        if len(written) == 20_000:
            print("INSERTING", flush=True)
            time.sleep(120)
        return write_row(self, row)

    psycopg.Copy.write_row = held_write_row

    version = service.deposit(result, data, "bilan.xlsx", "xlsx", contract, 2025)
    print("DONE", version.number, flush=True)
"""


def _child(url, rows, mode, tmp_path):
    env = {**os.environ, "CEP_INSTANCE_DIR": str(tmp_path / "instance"), "UPLOAD_DIR": str(tmp_path / "files")}
    return subprocess.Popen([sys.executable, "-c", CHILD, url, str(rows), mode], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_import_killed_mid_way_leaves_nothing(scratch_pg_url, tmp_path):
    url = scratch_pg_url
    engine = create_engine(url)
    try:
        setup = _child(url, 0, "setup", tmp_path)
        assert setup.wait(timeout=120) == 0, setup.stderr.read()

        victim = _child(url, 40_000, "import", tmp_path)
        started = time.monotonic()
        line = ""
        while time.monotonic() - started < 240:
            line = victim.stdout.readline()
            if line.startswith("INSERTING") or not line:
                break
        assert line.startswith("INSERTING"), victim.stderr.read()[-2000:]
        time.sleep(0.2)  # the first rows are in the COPY, uncommitted
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)

        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM beneficiary_rows")).scalar() == 0
            assert conn.execute(text("SELECT count(*) FROM workbook_versions")).scalar() == 0
            assert conn.execute(text("SELECT count(*) FROM journal_entries WHERE action = 'bilan_depose'")).scalar() == 0

        # the server released the dead session's locks: the next deposit succeeds in full
        retry = _child(url, 2_000, "import", tmp_path)
        out, err = retry.communicate(timeout=240)
        assert retry.returncode == 0, err[-2000:]
        assert "DONE 1" in out
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM beneficiary_rows")).scalar() == 2_000
    finally:
        engine.dispose()
