#!/usr/bin/env bash
# bench/import.sh: tally import of a province-sized file against
# PostgreSQL's COPY of the same rows, in one run.
#
#   bench/import.sh                 40,000 units x 100 elements, one year
#   BENCH_UNITS=4000 bench/import.sh
#   BENCH_AB="OLD_BUILD NEW_BUILD" BENCH_ROUNDS=4 bench/import.sh
#                                   also imports the same file with the
#                                   tally and tallyd of two builds, taking
#                                   turns, into a fresh store each time:
#                                   wall time and tallyd's CPU time a round
#
# Builds in release mode (build/bench-release), makes a catalog of
# BENCH_UNITS towns in counties of 100 under the district (as
# bench/run.sh part 3 does), writes one long-form CSV of every town's 100
# figures for 2022 (BENCH_VALUES: the elements the load generator may send,
# about 75, for past them the catalog's summing rules break; then plain
# counts added to the catalog that no rule reads), starts tallyd with a fresh
# store and `tally import`s the file as the admin, timed from the command's
# start to its end (reading the file, checking, sending, every report
# stored and acknowledged: durable, LMDB syncs on commit); then starts a
# private PostgreSQL 15 cluster (fsync=on, synchronous_commit=on) and
# times `\copy` of the same CSV into a table with the same primary key.
# Results on standard output and in $BENCH_OUT (default
# /tmp/tally-import-<date>).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$top/build/bench-release
units=${BENCH_UNITS:-40000}
nvalues=${BENCH_VALUES:-100}
work=$(mktemp -d /tmp/tally-import-work.XXXXXX)
out=${BENCH_OUT:-/tmp/tally-import-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
chmod 755 "$work"
pgbin=/usr/lib/postgresql/15/bin
tallyd_pid=
pg_started=0

say() { printf '%s\n' "$*" >&2; }
pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  [ -n "$tallyd_pid" ] && kill "$tallyd_pid" 2>/dev/null && wait "$tallyd_pid" 2>/dev/null
  [ "$pg_started" = 1 ] && pg "$pgbin/pg_ctl" -D "$work/pg" -m fast -w stop >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTALLY_TESTS=OFF \
  -DTALLY_WEB=OFF > /dev/null
cmake --build "$build" -j2 --target tally tallyd > /dev/null

say "== a catalog of $units towns, a file of $units x $nvalues figures"
python3 "$top/bench/import_file.py" "$top/catalog/changqing.json" "$units" "$nvalues" \
  "$work/catalog.json" "$work/import.csv"
rows=$(( $(wc -l < "$work/import.csv") - 1 ))
say "   $rows rows, $(du -h "$work/import.csv" | cut -f1)"
# The file just written is still going to the disk: its write-back would
# be timed with whichever import runs first, against its syncs.
sync

# One import into a fresh store with the programs of build $1; prints
# "seconds tallyd-cpu-seconds".
one_import() {
  local b=$1 w
  w=$(mktemp -d "$work/ab.XXXXXX")
  "$b/tallyd" init --data "$w/store" > "$w/admin.token" 2> /dev/null
  "$b/tallyd" --data "$w/store" --catalog "$work/catalog.json" \
    --listen 127.0.0.1:0 > /dev/null 2> "$w/tallyd.log" &
  tallyd_pid=$!
  for _ in $(seq 100); do
    grep -q 'listening on' "$w/tallyd.log" && break
    sleep 0.1
  done
  local a t0 t1 cpu
  a=$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$w/tallyd.log" | head -1)
  if [ -z "$a" ]; then
    say "$b/tallyd did not start:"; cat "$w/tallyd.log" >&2; exit 1
  fi
  t0=$(date +%s.%N)
  TALLY_SERVER=$a TALLY_TOKEN=$(cat "$w/admin.token") TALLY_CONFIG=$w/none \
    TALLY_SPOOL=$w/spool "$b/tally" import "$work/import.csv" --timeout 600 \
    > /dev/null
  t1=$(date +%s.%N)
  # utime + stime of tallyd, in clock ticks (proc(5)), before it stops
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' \
    "/proc/$tallyd_pid/stat")
  kill "$tallyd_pid"; wait "$tallyd_pid" 2>/dev/null || true; tallyd_pid=
  awk -v a="$t0" -v b="$t1" -v c="$cpu" 'BEGIN { printf "%.2f %s\n", b - a, c }'
  rm -rf "$w"
}

if [ -n "${BENCH_AB:-}" ]; then
  read -r ab_old ab_new <<< "$BENCH_AB"
  say "== tally import, $ab_old and $ab_new taking turns"
  {
    echo "| round | $ab_old: s | tallyd CPU s | $ab_new: s | tallyd CPU s |"
    echo "|---:|---:|---:|---:|---:|"
    for r in $(seq "${BENCH_ROUNDS:-4}"); do
      read -r old_s old_cpu < <(one_import "$ab_old")
      read -r new_s new_cpu < <(one_import "$ab_new")
      echo "| $r | $old_s | $old_cpu | $new_s | $new_cpu |"
    done
  } | tee "$out/ab.md"
fi

say "== tally import"
"$build/tallyd" init --data "$work/store" > "$work/admin.token" 2> /dev/null
"$build/tallyd" --data "$work/store" --catalog "$work/catalog.json" \
  --listen 127.0.0.1:0 2> "$work/tallyd.log" &
tallyd_pid=$!
for _ in $(seq 100); do
  grep -q 'listening on' "$work/tallyd.log" && break
  sleep 0.1
done
addr=$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$work/tallyd.log" | head -1)
export TALLY_SERVER=$addr TALLY_TOKEN=$(cat "$work/admin.token")
export TALLY_CONFIG=$work/none TALLY_SPOOL=$work/spool
t0=$(date +%s.%N)
"$build/tally" import "$work/import.csv" --timeout 600 > "$out/tally-import.out"
t1=$(date +%s.%N)
cat "$out/tally-import.out"
tsec=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
again0=$(date +%s.%N)
"$build/tally" import "$work/import.csv" --timeout 600 > "$out/tally-import-again.out"
again1=$(date +%s.%N)
asec=$(awk -v a="$again0" -v b="$again1" 'BEGIN { printf "%.2f", b - a }')
store_mb=$(du -sm "$work/store" | cut -f1)
kill "$tallyd_pid"; wait "$tallyd_pid" 2>/dev/null || true; tallyd_pid=

say "== PostgreSQL COPY"
mkdir -p "$work/pg" "$work/pgsock"
[ "$(id -u)" = 0 ] && chown postgres: "$work/pg" "$work/pgsock" && chmod 644 "$work/import.csv"
pg "$pgbin/initdb" -D "$work/pg" -A trust -U bench -E UTF8 > "$work/initdb.log" 2>&1
port=$(( 20000 + RANDOM % 10000 ))
cat >> "$work/pg/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$work/pgsock'
shared_buffers = 1GB
fsync = on
synchronous_commit = on
full_page_writes = on
EOF
pg "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg/postgres.log" -w -t 60 start > /dev/null
pg_started=1
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=bench PGDATABASE=postgres
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE TABLE vals (unit text, period int,
  element text, value double precision, PRIMARY KEY (period, unit, element))"
p0=$(date +%s.%N)
psql -X -q -v ON_ERROR_STOP=1 -c "\\copy vals FROM '$work/import.csv' WITH (FORMAT csv, HEADER true)"
p1=$(date +%s.%N)
psec=$(awk -v a="$p0" -v b="$p1" 'BEGIN { printf "%.2f", b - a }')
pgrows=$(psql -X -At -c "SELECT count(*) FROM vals")

{
  echo "| $units units x $nvalues elements ($rows values) | seconds | values/s |"
  echo "|---|---:|---:|"
  awk -v s="$tsec" -v r="$rows" 'BEGIN { printf "| tally import (every report stored, durable) | %s | %.0f |\n", s, r / s }'
  awk -v s="$asec" -v r="$rows" 'BEGIN { printf "| tally import of the same file again (all already stored) | %s | %.0f |\n", s, r / s }'
  awk -v s="$psec" -v r="$pgrows" 'BEGIN { printf "| PostgreSQL \\\\copy, one transaction (%d rows) | %s | %.0f |\n", r, s, r / s }'
  echo
  echo "store after the import: $store_mb MB; $(nproc) cores"
} | tee "$out/results.md"
