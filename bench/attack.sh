#!/usr/bin/env bash
# The memory attacks of issue 18 against one tallyd build, with its
# resident memory measured; run it against an old build and a new one to
# compare. Usage:
#
#   bench/attack.sh SERVER-BUILD ATTACK-BUILD [replies|frames] [-- TALLYD-OPTIONS...]
#
# SERVER-BUILD holds the tallyd (and tally) measured; ATTACK-BUILD holds
# bench/tally-attack (a build of this tree: cmake --build B --target
# tally-attack). Each attack runs on a fresh store on 127.0.0.1:
#   replies: a reporter makes 60,000 corrections of its own unit's 2022
#            report (ATTACK_COUNT), then 400 connections (ATTACK_CONNS)
#            each ask for its history 64 times and never read;
#   frames:  900 signed-in connections each send all but the last byte of
#            a 1 MiB frame.
# While an attack lasts (20 s), tallyd's VmRSS is read every 0.2 s and
# another client runs `tally whoami` every second. Prints one line:
#   ATTACK: rss_before_kib=A rss_peak_kib=P served=OK/CALLS
set -euo pipefail

[ $# -ge 2 ] || { sed -n '2,22p' "$0" >&2; exit 2; }
srv_build=$1 atk_build=$2
shift 2
attacks=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do attacks+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#attacks[@]} -gt 0 ] || attacks=(replies frames)
count=${ATTACK_COUNT:-60000}
conns=${ATTACK_CONNS:-}
seconds=${ATTACK_SECONDS:-20}
attacker=$atk_build/bench/tally-attack
[ -x "$srv_build/tallyd" ] || { echo "attack: no tallyd in $srv_build" >&2; exit 2; }
[ -x "$attacker" ] || { echo "attack: no $attacker" >&2; exit 2; }

work=$(mktemp -d /tmp/tally-attack.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2> /dev/null && wait "$pid" 2> /dev/null
  rm -rf "$work"
}
trap cleanup EXIT

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2> /dev/null || echo 0; }

for attack in "${attacks[@]}"; do
  rm -rf "$work/store"
  "$srv_build/tallyd" init --data "$work/store" > "$work/admin" 2> /dev/null
  "$srv_build/tallyd" --data "$work/store" --listen 127.0.0.1:0 \
    --max-connections 2000 ${@+"$@"} > "$work/out" 2> "$work/log" &
  pid=$!
  addr=
  for _ in $(seq 100); do
    addr=$(sed -n 's/^listening on //p' "$work/out")
    [ -n "$addr" ] && break
    sleep 0.1
  done
  [ -n "$addr" ] || { cat "$work/log" >&2; exit 1; }
  export TALLY_CONFIG=$work/no-config
  TALLY_TOKEN=$(cat "$work/admin") "$srv_build/tally" --server "$addr" \
    account add --role reporter --unit wenchang --name attacker > "$work/reporter"
  case $attack in
    replies)
      TALLY_TOKEN=$(cat "$work/reporter") "$attacker" history --server "$addr" \
        --unit wenchang --period 2022 --count "$count" > /dev/null
      args=(replies --server "$addr" --unit wenchang --period 2022
        --connections "${conns:-400}" --requests "${ATTACK_REQUESTS:-64}" --seconds "$seconds") ;;
    frames)
      args=(frames --server "$addr" --connections "${conns:-900}"
        --bytes 1048576 --seconds "$seconds") ;;
    *) echo "attack: no attack '$attack'" >&2; exit 2 ;;
  esac
  before=$(rss "$pid")
  TALLY_TOKEN=$(cat "$work/reporter") "$attacker" "${args[@]}" > "$work/attack.out" 2>&1 &
  apid=$!
  peak=$before calls=0 ok=0 next=0
  while kill -0 "$apid" 2> /dev/null; do
    r=$(rss "$pid")
    [ "$r" -gt "$peak" ] && peak=$r
    if [ "$(date +%s)" -ge "$next" ] && grep -q '^attacking' "$work/attack.out"; then
      calls=$((calls + 1))
      TALLY_TOKEN=$(cat "$work/admin") timeout 10 "$srv_build/tally" --server "$addr" \
        --timeout 5 whoami > /dev/null 2>&1 && ok=$((ok + 1))
      next=$(( $(date +%s) + 1 ))
    fi
    sleep 0.2
  done
  wait "$apid" || { cat "$work/attack.out" >&2; exit 1; }
  echo "$attack: rss_before_kib=$before rss_peak_kib=$peak served=$ok/$calls"
  kill "$pid"
  wait "$pid" 2> /dev/null || true
  pid=
done
