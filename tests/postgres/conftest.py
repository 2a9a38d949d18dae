"""A scratch PostgreSQL database per test, on the test server, dropped afterwards."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text


@pytest.fixture
def scratch_pg_url(pg_url, request):
    """URL of an empty database named after the test (created, then dropped)."""
    name = "cep_scratch_" + request.node.name.lower().replace("[", "_").replace("]", "")[:40]
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    drop()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield pg_url.rsplit("/", 1)[0] + f"/{name}"
    drop()
    admin.dispose()
