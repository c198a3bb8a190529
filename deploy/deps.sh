#!/usr/bin/env bash
# Installs the Debian packages tally needs that are missing.
#   deploy/deps.sh          what building and running needs
#   deploy/deps.sh --test   and what the tests need
# Runs apt-get as root, through sudo otherwise.
set -euo pipefail

packages=(cmake make gcc pkg-config protobuf-c-compiler libprotobuf-c-dev
          libuv1-dev liblmdb-dev libjansson-dev libcsv-dev libssl-dev
          openssl libwebsockets-dev libsodium-dev libzip-dev libxml2-dev
          libxlsxwriter-dev libinih-dev libsystemd-dev gettext)
# The web pages are built with node and npm (packages from the npm
# registry, by web/'s lockfile); a node from elsewhere will do.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
if [ "${1:-}" = --test ]; then
  # LibreOffice (headless) opens and saves again the workbooks tally
  # writes, as an office would (tests/test_form_xlsx.c). The report
  # files' tests (tests/test_report_file.c): Chromium prints the PDF, in
  # a Chinese font; poppler-utils turns its pages into images and text;
  # Debian's python3 with openpyxl reads the workbook back.
  packages+=(libcriterion-dev python3 chromium libreoffice-calc-nogui
             fonts-wqy-microhei poppler-utils python3-openpyxl)
  # The package's test (tests/package.sh): build it, lint it, check its
  # units, install it.
  packages+=(dpkg-dev lintian systemd adduser)
  # tests/systemd.sh: that test under a real systemd, booted in
  # systemd-nspawn where systemd does not run the machine.
  packages+=(systemd-container)
  # The zh_CN locale's sources, compiled by the test that reads the
  # Chinese messages (localedef into a folder of its own).
  packages+=(locales)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null ||
    { echo "deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
