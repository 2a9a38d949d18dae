"""The PostgreSQL import path: rows go in with COPY in text format, built by
`audit.workbooks.service._copy_text`. Values that COPY treats specially must come back
exactly as they were (the validator's patterns keep them out of real workbooks today;
the escaping must not depend on that)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import create_engine, text

from audit.workbooks.service import _copy_text

pytestmark = pytest.mark.postgres

TRICKY = ["plain", "back\\slash", "tab\there", "new\nline", "carriage\rreturn", "\\N", "", None,
          "accentué", "trailing\\"]


def test_copy_text_round_trips_every_special_value(scratch_pg_url):
    engine = create_engine(scratch_pg_url)
    n = len(TRICKY)
    columns = [list(range(n)), TRICKY, [None if i % 3 else 4 for i in range(n)],
               [date(2025, 1, 1 + i) for i in range(n)], [0.1 * i for i in range(n)]]
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (k integer, s text, i smallint, d date, f double precision)"))
            with conn.connection.driver_connection.cursor() as cursor:
                with cursor.copy("COPY t (k, s, i, d, f) FROM STDIN") as copy:
                    copy.write(_copy_text(columns))
            back = conn.execute(text("SELECT k, s, i, d, f FROM t ORDER BY k")).all()
        assert [tuple(r) for r in back] == list(zip(*columns))
    finally:
        engine.dispose()
