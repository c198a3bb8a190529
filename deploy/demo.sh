#!/usr/bin/env bash
# The tally demo: installs what is missing, builds, starts tallyd on
# loopback with a fresh data directory and the built-in Changqing
# catalog, submits the bundled sample figures of all ten units (and the
# district office's own: milestones, budget revenue, air quality) for
# 2020, 2021 and 2022 through the real client, prints the district report
# for 2022, and stops the server. Run it from anywhere, as often as you
# like.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$top/build/release"

"$top/deploy/deps.sh"
mkdir -p "$build"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTALLY_TESTS=OFF \
  > "$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" -j"$(nproc)" > "$build/build.log" 2>&1 ||
  { cat "$build/build.log" >&2; exit 1; }

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

# Port 0: the system picks a free port, so two demos never collide.
"$build/tallyd" --data "$data/store" --listen 127.0.0.1:0 \
  > "$data/tallyd.out" 2> "$data/tallyd.log" &
pid=$!
for _ in $(seq 100); do
  grep -q '^listening on ' "$data/tallyd.out" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$data/tallyd.log" >&2; exit 1; }
  sleep 0.1
done
export TALLY_SERVER=$(sed -n 's/^listening on //p' "$data/tallyd.out")
export TALLY_SPOOL="$data/spool"
[ -n "$TALLY_SERVER" ] || { echo "demo: tallyd did not start" >&2; exit 1; }
echo "tallyd is listening on $TALLY_SERVER (data in $data/store)"

for year in 2020 2021 2022; do
  units=0
  for file in "$top"/deploy/sample/$year/*.csv; do
    unit=$(basename "$file" .csv)
    "$build/tally" submit --unit "$unit" --period "$year" --file "$file" > /dev/null
    [ "$unit" = changqing ] || units=$((units + 1))
  done
  echo "submitted the sample figures of $units units and the district office for $year"
done
echo

"$build/tally" report --period 2022
