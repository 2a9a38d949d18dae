#!/usr/bin/env bash
# The whole test suite. A throw-away PostgreSQL server is started when the
# binaries exist; with CI=true it must exist (and Chromium too): nothing skips.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
started=0
if [ -z "${TEST_DATABASE_URL:-}" ]; then
  if url=$(scripts/pg_test_server.sh start 2>/tmp/cep-pg-start.err); then
    export TEST_DATABASE_URL="$url"; started=1
  else
    echo "PostgreSQL indisponible : $(cat /tmp/cep-pg-start.err) — les tests PostgreSQL seront ignorés." >&2
  fi
fi
status=0
# 1) everything on SQLite (plus the PostgreSQL-specific and browser tests)
$BIN/pytest "$@" || status=$?
# 2) the same suite again with PostgreSQL as the application database
if [ -n "${TEST_DATABASE_URL:-}" ] && [ "$status" = 0 ]; then
  CEP_TEST_DB=postgres $BIN/pytest -m "not browser" -p no:cacheprovider "$@" || status=$?
fi
[ "$started" = 1 ] && scripts/pg_test_server.sh stop
exit $status
