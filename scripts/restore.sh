#!/usr/bin/env bash
# Restores a backup made by scripts/backup.sh into the configured database and file
# store (DATABASE_URL, UPLOAD_DIR). The target database must exist; its objects are
# replaced. Checksums are verified first: a damaged backup restores nothing.
set -euo pipefail
SRC="${1:?usage: restore.sh BACKUP_DIR}"
INSTANCE="${CEP_INSTANCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)/instance}"
URL="${DATABASE_URL:-sqlite:///$INSTANCE/cep.sqlite3}"
FILES="${UPLOAD_DIR:-$INSTANCE/files}"
(cd "$SRC" && sha256sum --quiet -c MANIFEST.sha256) || { echo "Sauvegarde altérée : rien n'est restauré." >&2; exit 1; }
case "$URL" in
  postgres*)
    libpq_url="$(printf '%s' "$URL" | sed -E 's#^postgres(ql)?(\+[a-z0-9]+)?://#postgresql://#')"
    pg_restore --clean --if-exists --no-owner --single-transaction --dbname "$libpq_url" "$SRC/database.pgdump"
    ;;
  sqlite*)
    dst="${URL#sqlite:///}"
    mkdir -p "$(dirname "$dst")"
    python3 -c 'import sqlite3, sys
src = sqlite3.connect(sys.argv[1]); dst = sqlite3.connect(sys.argv[2])
src.backup(dst); dst.close(); src.close()' "$SRC/database.sqlite3" "$dst"
    ;;
  *) echo "DATABASE_URL non reconnue : $URL" >&2; exit 2 ;;
esac
mkdir -p "$FILES"
tar -C "$FILES" -xzf "$SRC/files.tar.gz"
echo "Restauration terminée depuis $SRC"
