#!/usr/bin/env bash
# bench/report_files.sh [BUILD_DIR] [ROUNDS]: how long tally report takes
# to make the annual report's files from the bundled samples (ten units
# and the district office, 2020-2022), on loopback.
#
# Starts tallyd from BUILD_DIR (default build/dev) with a fresh store,
# submits the samples through the real client, then ROUNDS times
# (default 5) makes the 2022 report as html, xlsx and pdf (pdf only when
# Chromium is installed) and prints, for each, the wall time and, for
# html, the requests it made and how long they took (the page's last
# line says so). Prints the load average too: the machine is shared.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$top/build/dev}
rounds=${2:-5}
tally=$build/tally
[ -x "$build/tallyd" ] && [ -x "$tally" ] ||
  { echo "no tallyd or tally in $build: build first" >&2; exit 1; }

data=$(mktemp -d "${TMPDIR:-/tmp}/tally-report-bench.XXXXXX")
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait "$pid" || true
  fi
  rm -rf "$data"
}
trap cleanup EXIT

umask 077
"$build/tallyd" init --data "$data/store" > "$data/admin.token" 2> /dev/null
"$build/tallyd" --data "$data/store" --listen 127.0.0.1:0 \
  > "$data/tallyd.out" 2> "$data/tallyd.log" &
pid=$!
for _ in $(seq 100); do
  grep -q '^listening on ' "$data/tallyd.out" 2>/dev/null && break
  sleep 0.1
done
export TALLY_SERVER=$(sed -n 's/^listening on //p' "$data/tallyd.out")
export TALLY_SPOOL=$data/spool TALLY_CONFIG=$data/config.json
export TALLY_TOKEN=$(cat "$data/admin.token")
mkdir "$data/tokens"
for f in "$top"/deploy/sample/2022/*.csv; do
  u=$(basename "$f" .csv)
  "$tally" account add --role reporter --unit "$u" --name "$u" \
    > "$data/tokens/$u" 2> /dev/null
done
for y in 2020 2021 2022; do
  for f in "$top"/deploy/sample/$y/*.csv; do
    u=$(basename "$f" .csv)
    "$tally" --token-file "$data/tokens/$u" submit --unit "$u" --period "$y" \
      --file "$f" > /dev/null 2>&1
  done
done

seconds() { # runs "$@", prints its wall time in seconds
  local t0 t1
  t0=$(date +%s.%N)
  "$@" > /dev/null
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}

formats="html xlsx"
command -v chromium > /dev/null && formats="$formats pdf"
echo "report files of 2022, $rounds rounds; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
  for f in $formats; do
    s=$(seconds "$tally" report --period 2022 --format "$f" -o "$data/2022.$f")
    extra=
    [ "$f" = html ] &&
      extra=$(grep -o 'from [0-9]* requests in [0-9]* ms' "$data/2022.html")
    echo "round $r: $f $s s $(stat -c %s "$data/2022.$f") bytes $extra"
  done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
