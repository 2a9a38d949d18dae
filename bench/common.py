"""Small helpers shared by the benchmark scripts (and tests/perf)."""
from __future__ import annotations

import re
from contextlib import contextmanager


@contextmanager
def count_statements(engine):
    """SQL statements the engine sends while the block runs."""
    from sqlalchemy import event

    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def signed_in_client(app, email: str, password: str):
    """A Flask test client signed in through the real /connexion form (CSRF token read
    from the page)."""
    client = app.test_client()
    body = client.get("/connexion").get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body)
    data = {"email": email, "password": password}
    if match:
        data["csrf_token"] = match.group(1)
    response = client.post("/connexion", data=data)
    if response.status_code != 302:
        raise SystemExit(f"connexion refusée ({response.status_code})")
    return client
