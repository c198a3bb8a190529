#!/usr/bin/env bash
# bench/import_threads.sh: where one province-sized import's time goes,
# thread by thread, for finding what to make faster (bench/import.sh is
# the benchmark; this is the stethoscope).
#
#   bench/import_threads.sh [BUILD]     BUILD: build/bench-release
#   BENCH_UNITS=4000 BENCH_CALLGRIND=1 bench/import_threads.sh
#
# Imports BENCH_UNITS towns x BENCH_VALUES elements (bench/import_file.py)
# into a fresh tallyd of BUILD and prints the wall time; the CPU time of
# each of tallyd's threads (utime and stime from /proc/PID/task/*/stat
# as the import ends: the loop, then the writer); and the client's CPU,
# peak memory and minor page faults (/usr/bin/time). With
# BENCH_CALLGRIND=1 both programs run under valgrind's callgrind instead
# and it prints the instructions each thread ran (the loop's include
# loading the catalog), which move by a few per cent from run to run
# where seconds move by a fifth; use a small BENCH_UNITS (4000: a
# minute). The callgrind files stay in BENCH_OUT for callgrind_annotate.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$top/build/bench-release}
units=${BENCH_UNITS:-40000}
nvalues=${BENCH_VALUES:-100}
out=${BENCH_OUT:-/tmp/tally-import-threads-$(date +%Y%m%d-%H%M%S)}
work=$(mktemp -d /tmp/tally-import-threads.XXXXXX)
mkdir -p "$out"
tallyd_pid=
cleanup() {
  [ -n "$tallyd_pid" ] && kill "$tallyd_pid" 2>/dev/null && wait "$tallyd_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$build" = "$top/build/bench-release" ]; then
  cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTALLY_TESTS=OFF \
    -DTALLY_WEB=OFF > /dev/null
  cmake --build "$build" -j2 --target tally tallyd > /dev/null
fi
python3 "$top/bench/import_file.py" "$top/catalog/changqing.json" "$units" \
  "$nvalues" "$work/catalog.json" "$work/import.csv"
sync

grind_tallyd=() grind_tally=()
if [ "${BENCH_CALLGRIND:-0}" = 1 ]; then
  grind_tallyd=(valgrind --tool=callgrind --separate-threads=yes
                --callgrind-out-file="$out/tallyd.callgrind")
  grind_tally=(valgrind --tool=callgrind
               --callgrind-out-file="$out/tally.callgrind")
fi
"$build/tallyd" init --data "$work/store" > "$work/admin.token" 2> /dev/null
"${grind_tallyd[@]}" "$build/tallyd" --data "$work/store" --catalog "$work/catalog.json" \
  --listen 127.0.0.1:0 > /dev/null 2> "$work/tallyd.log" &
tallyd_pid=$!
for _ in $(seq 600); do
  grep -q 'listening on' "$work/tallyd.log" && break
  sleep 0.1
done
addr=$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$work/tallyd.log" | head -1)
[ -n "$addr" ] || { cat "$work/tallyd.log" >&2; exit 1; }

t0=$(date +%s.%N)
TALLY_SERVER=$addr TALLY_TOKEN=$(cat "$work/admin.token") \
  TALLY_CONFIG=$work/none TALLY_SPOOL=$work/spool \
  /usr/bin/time -o "$work/client.time" \
  -f "client: %U s user, %S s system, %M KB at most, %R minor page faults" \
  "${grind_tally[@]}" "$build/tally" import "$work/import.csv" --timeout 3600 > "$out/import.out"
t1=$(date +%s.%N)
values=$(( $(wc -l < "$work/import.csv") - 1 ))
awk -v a="$t0" -v b="$t1" -v n="$values" \
  'BEGIN { printf "%d values in %.2f s: %.0f a second\n", n, b - a, n / (b - a) }'
hz=$(getconf CLK_TCK)
for task in /proc/"$tallyd_pid"/task/*; do
  awk -v hz="$hz" -v t="$(basename "$task")" \
    '{ printf "tallyd thread %s: %.2f s user, %.2f s system\n", t, $14 / hz, $15 / hz }' \
    "$task/stat"
done
cat "$work/client.time"
kill "$tallyd_pid"; wait "$tallyd_pid" 2>/dev/null || true; tallyd_pid=
if [ "${BENCH_CALLGRIND:-0}" = 1 ]; then
  # tallyd's thread 1 is the loop, 2 the writer.
  for f in "$out"/tallyd.callgrind-* "$out"/tally.callgrind; do
    printf '%s: %s instructions\n' "$(basename "$f")" \
      "$(sed -n 's/^summary: //p' "$f")"
  done
fi
