#!/usr/bin/env bash
# Installs the DSFR from the npm registry and copies what the pages use into
# platform_core/static/dsfr (served locally: no CDN).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/@gouvfr/dsfr/dist/dsfr.min.css ]; then
  # --ignore-scripts: the package's preinstall insists on a project config we don't need.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi
src=node_modules/@gouvfr/dsfr/dist
dst=platform_core/static/dsfr
rm -rf "$dst"
mkdir -p "$dst/utility/icons"
cp "$src"/dsfr.min.css "$src"/dsfr.print.min.css "$src"/dsfr.module.min.js "$src"/dsfr.nomodule.min.js "$dst"/
cp -r "$src"/fonts "$src"/icons "$src"/favicon "$src"/artwork "$dst"/
cp "$src"/utility/icons/icons.min.css "$dst"/utility/icons/
echo "DSFR $(node -p "require('./node_modules/@gouvfr/dsfr/package.json').version") installé dans $dst"
