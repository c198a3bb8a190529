#!/usr/bin/env bash
# Builds the Debian package of tally: deploy/package.sh [OUTDIR]
#   builds in build/pkg (prefix /usr, no tests, no bench), installs into
#   a staging tree with cmake --install --strip, adds the maintainer
#   scripts, and makes OUTDIR/tally_VERSION_ARCH.deb (default build/)
#   with dpkg-deb. Prints the package's path last.
# Needs what deploy/deps.sh installs (and dpkg-dev for the libraries'
# dependencies). The package itself: docs/OPERATIONS.md.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$top/build}
build=$top/build/pkg
stage=$build/stage
die() { echo "package: $*" >&2; exit 1; }

command -v dpkg-deb > /dev/null || die "dpkg-deb is missing"
command -v dpkg-shlibdeps > /dev/null || die "dpkg-shlibdeps is missing (apt-get install dpkg-dev)"

cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_INSTALL_PREFIX=/usr -DTALLY_TESTS=OFF -DTALLY_BENCH=OFF \
  -DTALLY_WEB=ON > "$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; die "configure failed"; }
cmake --build "$build" -j"$(nproc)" > "$build.build.log" 2>&1 ||
  { tail -n 40 "$build.build.log"; die "build failed"; }
[ -f "$build/web/index.html" ] || die "the web pages were not built (npm?)"
rm -rf "$stage"
DESTDIR=$stage cmake --install "$build" --strip > /dev/null

version=$("$build/tallyd" --version | awk '{print $2}')
# Who answers for the package: Debian's own variables, else a stand-in.
maintainer="${DEBFULLNAME:-tally maintainers} <${DEBEMAIL:-tally@example.org}>"
arch=$(dpkg --print-architecture)
doc=$stage/usr/share/doc/tally

# Debian's own: compressed man pages, a copyright file and a changelog.
find "$stage/usr/share/man" -type f -exec gzip -9n {} +
mkdir -p "$doc"
cat > "$doc/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: tally
Comment: Built from the tally source tree by deploy/package.sh. The web
 pages bundle JavaScript packages from the npm registry (web/package-lock.json
 names them and their licences).

Files: *
Copyright: 2026 the tally authors
License: no licence stated
 The tally source states no licence; it is packaged for the district's
 own use.
COPYRIGHT
{
  echo "tally ($version) unstable; urgency=medium"
  echo
  echo "  * Built by deploy/package.sh from $(cd "$top" && git rev-parse --short HEAD 2>/dev/null || echo 'a source tree')."
  echo
  echo " -- $maintainer  $(date -R -u -d @"${SOURCE_DATE_EPOCH:-$(date +%s)}")"
} | gzip -9n > "$doc/changelog.gz"

# The libraries the programs need, as Debian names them.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/debian"
printf 'Source: tally\n\nPackage: tally\nArchitecture: any\n' > "$tmp/debian/control"
depends=$(cd "$tmp" && dpkg-shlibdeps -O "$stage/usr/bin/tally" "$stage/usr/bin/tallyd" 2>/dev/null |
          sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || die "dpkg-shlibdeps found no dependencies"

mkdir -p "$stage/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<CONTROL
Package: tally
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $depends, adduser
Section: misc
Priority: optional
Description: data collection for the district's health and plan indicators
 tallyd collects the yearly figures of the subdistrict and town offices
 (raw counts, never rates) over TCP/TLS and web pages, keeps them in an
 LMDB store, and turns them into the district's indicators against the
 targets of its plans. tally is its command-line client for the offices
 and the central office.
 .
 The package runs tallyd under systemd as the system user tally, with its
 settings in /etc/tally/tallyd.conf, its store in /var/lib/tally and a
 nightly backup in /var/backups/tally.
 .
 Removing the package keeps the store, the settings and the backups.
 Purging it (apt purge tally) deletes the store /var/lib/tally, with every
 figure in it, and the settings /etc/tally; it keeps the backups in
 /var/backups/tally and the user tally.
CONTROL
echo /etc/tally/tallyd.conf > "$stage/DEBIAN/conffiles"
install -m 0755 "$top/deploy/debian/postinst" "$top/deploy/debian/prerm" \
  "$top/deploy/debian/postrm" "$stage/DEBIAN/"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' |
   sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"

mkdir -p "$out"
deb=$out/tally_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" > /dev/null
echo "$deb"
