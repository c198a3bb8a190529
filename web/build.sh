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
