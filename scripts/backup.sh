#!/usr/bin/env bash
# Backs up the database and the file store into DEST (a new folder):
#   DATABASE_URL=postgresql://… UPLOAD_DIR=/srv/cep/files scripts/backup.sh /backups/2026-11-23
# PostgreSQL: pg_dump custom format; SQLite: the online backup API. The file store is
# archived as is (files are named by their SHA-256). A manifest lists checksums.
set -euo pipefail
DEST="${1:?usage: backup.sh DEST_DIR}"
INSTANCE="${CEP_INSTANCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)/instance}"
URL="${DATABASE_URL:-sqlite:///$INSTANCE/cep.sqlite3}"
FILES="${UPLOAD_DIR:-$INSTANCE/files}"
mkdir -p "$DEST"
case "$URL" in
  postgres*)
    libpq_url="$(printf '%s' "$URL" | sed -E 's#^postgres(ql)?(\+[a-z0-9]+)?://#postgresql://#')"
    pg_dump --format=custom --no-owner --file "$DEST/database.pgdump" "$libpq_url"
    ;;
  sqlite*)
    src="${URL#sqlite:///}"
    python3 -c 'import sqlite3, sys
src = sqlite3.connect(sys.argv[1]); dst = sqlite3.connect(sys.argv[2])
src.backup(dst); dst.close(); src.close()' "$src" "$DEST/database.sqlite3"
    ;;
  *) echo "DATABASE_URL non reconnue : $URL" >&2; exit 2 ;;
esac
if [ -d "$FILES" ]; then
  tar -C "$FILES" -czf "$DEST/files.tar.gz" .
else
  tar -czf "$DEST/files.tar.gz" --files-from /dev/null
fi
(cd "$DEST" && sha256sum database.* files.tar.gz > MANIFEST.sha256)
echo "Sauvegarde écrite dans $DEST"
