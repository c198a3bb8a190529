#!/usr/bin/env bash
# Builds the web pages into OUT (default web/dist): installs the npm
# packages from the lockfile when they are missing or older than it,
# generates the protobuf code from proto/tally.proto, and bundles.
#   web/build.sh BUILD/web
set -euo pipefail
web=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-$web/dist}
cd "$web"
if [ ! -f node_modules/.package-lock.json ] ||
   [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
TALLY_WEB_OUT=$out npm run --silent build -- --logLevel warn
# A gzip copy beside each text asset (tallyd sends it to a browser that
# takes gzip): -n leaves the name and time out, so a build is repeatable.
find "$out" -type f \( -name '*.html' -o -name '*.js' -o -name '*.css' \
  -o -name '*.svg' -o -name '*.json' -o -name '*.webmanifest' \) \
  -exec gzip -9 -n -k -f {} +
