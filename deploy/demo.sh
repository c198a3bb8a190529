#!/usr/bin/env bash
# The tally demo: installs what is missing, builds, starts tallyd on
# loopback with a fresh data directory and the built-in Changqing
# catalog, submits the bundled sample figures of all ten units (and the
# district office's own: milestones, budget revenue, air quality) for
# 2020, 2021 and 2022 through the real client, prints the district report
# for 2022 and the figures to check against 2021, and stops the server. Run it from anywhere, as often as you
# like.
#
# It uses accounts as a district would: 'tallyd init' makes the admin,
# the admin adds a reporter account for each office and an analyst for
# the central office, each office submits with its own token, and the
# analyst reads the report. Tokens stay in files in the demo's private
# temporary directory, never on a command line.
#
# tallyd also serves the web pages (--http) on loopback: the demo prints
# their address and an office's account name and first password to
# sign in with. deploy/demo.sh --serve keeps the server running after
# the report, until Ctrl-C, so that the pages can be tried.
set -euo pipefail
serve=0
[ "${1:-}" = --serve ] && serve=1

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$top/build/release"

"$top/deploy/deps.sh"
mkdir -p "$build"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTALLY_TESTS=OFF \
  > "$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" -j"$(nproc)" > "$build/build.log" 2>&1 ||
  { cat "$build/build.log" >&2; exit 1; }

umask 077
data=$(mktemp -d "${TMPDIR:-/tmp}/tally-demo.XXXXXX")
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait "$pid" || true
  fi
  rm -rf "$data"
}
trap cleanup EXIT

# The store and its first admin; the token is printed once.
"$build/tallyd" init --config /dev/null --data "$data/store" \
  --name "Changqing district admin" > "$data/admin.token" 2> /dev/null

# Port 0: the system picks a free port, so two demos never collide. Its
# own settings, not an installed server's /etc/tally/tallyd.conf.
"$build/tallyd" --config /dev/null --data "$data/store" --listen 127.0.0.1:0 --http 127.0.0.1:0 \
  > "$data/tallyd.out" 2> "$data/tallyd.log" &
pid=$!
for _ in $(seq 100); do
  grep -q '^web pages on ' "$data/tallyd.out" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$data/tallyd.log" >&2; exit 1; }
  sleep 0.1
done
export TALLY_SERVER=$(sed -n 's/^listening on //p' "$data/tallyd.out")
export TALLY_SPOOL="$data/spool"
[ -n "$TALLY_SERVER" ] || { echo "demo: tallyd did not start" >&2; exit 1; }
web=$(sed -n 's/^web pages on //p' "$data/tallyd.out")
echo "tallyd is listening on $TALLY_SERVER (data in $data/store)"
echo "web pages: $web"

# The admin signs in (a private config file, not the user's own) and
# makes the accounts: one reporter per office, one analyst.
export TALLY_CONFIG="$data/config.json"
"$build/tally" login --token-file "$data/admin.token" > /dev/null
mkdir "$data/tokens"
for file in "$top"/deploy/sample/2022/*.csv; do
  unit=$(basename "$file" .csv)
  "$build/tally" account add --role reporter --unit "$unit" \
    --name "$unit statistics office" > "$data/tokens/$unit" 2> /dev/null
done
"$build/tally" account add --role analyst --name "Central office analyst" \
  > "$data/tokens/analyst" 2> /dev/null
echo "accounts: $(ls "$data/tokens" | grep -vc analyst) reporters (the ten offices and the district office, for its own figures) and an analyst"

# A first password for one office, to sign in to the web pages with.
office_id=$(sed -n 's/^tally_\([0-9]*\)_.*/\1/p' "$data/tokens/wenchang")
first=$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$first" | "$build/tally" account password "$office_id" > /dev/null
echo "sign in at $web as \"wenchang statistics office\" with the first password $first (you choose a new one then)"

for year in 2020 2021 2022; do
  units=0
  for file in "$top"/deploy/sample/$year/*.csv; do
    unit=$(basename "$file" .csv)
    # What a submission says on standard error (figures to check against
    # the year before) is shown only if it fails; 'tally check' below
    # lists the figures to check.
    "$build/tally" --token-file "$data/tokens/$unit" \
      submit --unit "$unit" --period "$year" --file "$file" \
      > /dev/null 2> "$data/submit.err" || { cat "$data/submit.err" >&2; exit 1; }
    [ "$unit" = changqing ] || units=$((units + 1))
  done
  echo "submitted the sample figures of $units units and the district office for $year"
done
echo

"$build/tally" --token-file "$data/tokens/analyst" report --period 2022
echo
"$build/tally" --token-file "$data/tokens/analyst" check --period 2022

if [ "$serve" = 1 ]; then
  echo
  echo "serving: sign in at $web as \"wenchang statistics office\" with $first; Ctrl-C stops"
  wait "$pid" || true
fi
