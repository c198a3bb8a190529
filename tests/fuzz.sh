#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_<name>.c) with clang and
# runs each for a bounded time, seeded with its committed corpus.
#
#   tests/fuzz.sh                 every target, FUZZ_SECONDS (20) each
#   FUZZ_SECONDS=300 tests/fuzz.sh frame request    some targets, longer
#
# The committed corpus (tests/fuzz/corpus/<name>/) is only read: each run
# works on a copy in a temporary directory, so new inputs never land in
# git. The build is in build-fuzz/, with every library compiled for
# coverage, ASan and UBSan (UBSan stops at the first report).
# Exits 1 if a target crashed, leaked, timed out or ran out of memory,
# after naming the input that did it; 0 without clang.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$repo/build-fuzz}
seconds=${FUZZ_SECONDS:-20}
jobs=${FUZZ_JOBS:-2}

say() { echo "fuzz: $*" >&2; }

# The largest input each target is given, in bytes.
max_len() {
  case $1 in
    frame) echo 16384 ;;     # several frames of up to 4096 bytes
    catalog) echo 98304 ;;   # catalog/changqing.json is about 70 KB
    xlsx) echo 65536 ;;      # a form from tally form is about 14 KB
    *) echo 4096 ;;
  esac
}

# Installs a Debian package when it is missing and we are root.
apt_updated=
need_package() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' &&
    return 0
  if [ "$(id -u)" -ne 0 ]; then
    say "package $1 is missing (run as root to install it)"
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$apt_updated" ]; then
    apt-get update -q >&2 || return 1
    apt_updated=1
  fi
  say "installing $1"
  apt-get install -y -q --no-install-recommends "$1" >&2
}

# clang, and the libFuzzer and sanitizer runtimes that Debian packages
# apart from it (libclang-rt-N-dev).
if ! command -v clang >/dev/null; then
  need_package clang || true
fi
if ! command -v clang >/dev/null; then
  say "clang is not installed: skipping the fuzz run"
  exit 0
fi
fuzzer_rt() { clang -print-file-name=libclang_rt.fuzzer-x86_64.a; }
if [ ! -f "$(fuzzer_rt)" ]; then
  major=$(clang -dumpversion | cut -d. -f1)
  need_package "libclang-rt-$major-dev" || true
  if [ ! -f "$(fuzzer_rt)" ]; then
    say "clang has no libFuzzer runtime (libclang-rt-$major-dev): skipping"
    exit 0
  fi
fi
# The project's own build dependencies, when the deploy script is there.
if [ -x "$repo/deploy/deps.sh" ]; then
  "$repo/deploy/deps.sh" --test
fi

# Every library is instrumented, not only the targets, so that libFuzzer
# sees coverage in the code under test.
flags="-fsanitize=fuzzer-no-link -fno-omit-frame-pointer"
CC=clang cmake -S "$repo" -B "$build" -DTALLY_FUZZ=ON -DTALLY_TESTS=ON \
  -DTALLY_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS="$flags" >/dev/null

if [ $# -gt 0 ]; then
  names=("$@")
else
  names=()
  for src in "$repo"/tests/fuzz/fuzz_*.c; do
    n=${src##*/fuzz_}
    names+=("${n%.c}")
  done
fi
targets=()
for n in "${names[@]}"; do targets+=("fuzz_$n"); done
cmake --build "$build" -j "$jobs" --target "${targets[@]}"

work=$(mktemp -d "${TMPDIR:-/tmp}/tally-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
artifacts=$build/fuzz-artifacts
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

failed=()
for n in "${names[@]}"; do
  seed=$repo/tests/fuzz/corpus/$n
  corpus=$work/$n
  mkdir -p "$corpus" "$artifacts/$n"
  rm -f "$artifacts/$n"/*
  [ -d "$seed" ] && cp -r "$seed"/. "$corpus"/
  opts=(-max_total_time="$seconds" -max_len="$(max_len "$n")" -timeout=10
        -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/$n/")
  # The request target logs every request (tally_log) to stderr: close
  # it. libFuzzer and the sanitizers still report on a copy of it.
  [ "$n" = request ] && opts+=(-close_fd_mask=2)
  say "running fuzz_$n for ${seconds}s on $(ls "$corpus" | wc -l) seed inputs"
  log=$work/$n.log
  if "$build/tests/fuzz_$n" "${opts[@]}" "$corpus" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' "$log" >&2 || true
  else
    tail -n 60 "$log" >&2
    say "fuzz_$n FAILED"
    for f in "$artifacts/$n"/*; do
      [ -e "$f" ] || continue
      say "  input: $f"
    done
    failed+=("$n")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  say "targets that failed: ${failed[*]}"
  say "reproduce with: $build/tests/fuzz_NAME INPUT"
  say "once fixed, copy the input into tests/fuzz/corpus/NAME/ (named after"
  say "the bug) so that the ordinary test run replays it"
  exit 1
fi
say "no crashes in: ${names[*]}"
