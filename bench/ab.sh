#!/usr/bin/env bash
# bench/ab.sh: two builds of tallyd, the same load, rounds alternating.
#
#   bench/ab.sh BASE_BUILD NEW_BUILD [ROUNDS [CONNECTIONS [SECONDS]]]
#
# AB_NEW_ARGS: more tally-loadgen options for the new runs alone, to
# compare two loads on one build (AB_NEW_ARGS=--check bench/ab.sh B B).
#
# For a change's effect on acknowledged submissions: each round starts
# the base tallyd, then the new one, each on a fresh store in a
# temporary directory on 127.0.0.1, and runs NEW_BUILD's tally-loadgen
# (50-value submissions) against it. Alternating spreads the machine's
# noise over both. Prints one line per run and the means. Builds are
# build directories (with tallyd and bench/tally-loadgen), e.g. made by
#   git worktree add /tmp/base REV && cmake -S /tmp/base -B /tmp/base/build \
#     -DCMAKE_BUILD_TYPE=Release -DTALLY_TESTS=OFF &&
#   cmake --build /tmp/base/build --target tallyd tally-loadgen
set -euo pipefail

[ $# -ge 2 ] || { sed -n '2,17p' "$0" >&2; exit 2; }
base=$1 new=$2 rounds=${3:-5} conns=${4:-64} secs=${5:-5}
loadgen=$new/bench/tally-loadgen
for b in "$base" "$new"; do
  [ -x "$b/tallyd" ] || { echo "ab: no tallyd in $b" >&2; exit 2; }
done
[ -x "$loadgen" ] || { echo "ab: no bench/tally-loadgen in $new" >&2; exit 2; }

work=$(mktemp -d /tmp/tally-ab.XXXXXX)
pidfile=$work/pid
cleanup() {
  if [ -s "$pidfile" ]; then
    kill "$(cat "$pidfile")" 2> /dev/null || true
    wait "$(cat "$pidfile")" 2> /dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# One run: writes submissions a second to $work/rate. Not in a $(...):
# a failure stops the script, and the trap knows tallyd's pid.
run() {
  local build=$1 extra=${2:-} dir addr= pid line
  dir=$(mktemp -d "$work/run.XXXXXX")
  "$build/tallyd" init --data "$dir/store" > "$dir/token" 2> /dev/null
  # The load comes from one address: builds that limit connections not
  # signed in per address get the limit raised.
  local per=()
  # Not grep -q: under pipefail, tallyd would die of SIGPIPE writing the
  # rest of its help, and the test would fail for a build that has it.
  if "$build/tallyd" --help | grep -- --max-per-address > /dev/null; then
    per=(--max-per-address 20000)
  fi
  "$build/tallyd" --data "$dir/store" --listen 127.0.0.1:0 \
    --max-connections 20000 ${per[@]+"${per[@]}"} > "$dir/log" 2>&1 &
  pid=$!
  echo "$pid" > "$pidfile"
  for _ in $(seq 100); do
    addr=$(sed -n 's/^listening on //p' "$dir/log")
    [ -n "$addr" ] && break
    sleep 0.1
  done
  [ -n "$addr" ] || { cat "$dir/log" >&2; echo "ab: $build/tallyd did not start" >&2; exit 1; }
  # shellcheck disable=SC2086 # extra is a list of options
  line=$("$loadgen" --server "$addr" --token-file "$dir/token" \
    --connections "$conns" --duration "$secs" $extra)
  kill "$pid"
  wait "$pid" 2> /dev/null || true
  : > "$pidfile"
  rm -rf "$dir"
  sed -n 's/.* per_s=\([^ ]*\).*/\1/p' <<< "$line" > "$work/rate"
  [ -s "$work/rate" ] || { echo "ab: no rate in: $line" >&2; exit 1; }
}

declare -a b_rates n_rates
for r in $(seq "$rounds"); do
  run "$base"; b=$(cat "$work/rate")
  run "$new" "${AB_NEW_ARGS:-}"; n=$(cat "$work/rate")
  b_rates+=("$b"); n_rates+=("$n")
  printf 'round %d: base %s/s, new %s/s\n' "$r" "$b" "$n"
done
awk -v b="${b_rates[*]}" -v n="${n_rates[*]}" -v c="$conns" 'BEGIN {
  nb = split(b, x, " "); nn = split(n, y, " ")
  for (i = 1; i <= nb; i++) sb += x[i]
  for (i = 1; i <= nn; i++) sn += y[i]
  printf "%d connections: base %.0f/s, new %.0f/s (mean of %d), new / base %.3f\n",
         c, sb / nb, sn / nn, nb, (sn / nn) / (sb / nb)
}'
