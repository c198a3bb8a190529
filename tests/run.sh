#!/usr/bin/env bash
# Installs what is missing, builds from scratch and runs every test:
#   1. the Criterion suites and fuzz-corpus replays (ctest), normal build;
#   2. the same under AddressSanitizer and UndefinedBehaviorSanitizer;
#   3. each fuzzer for a short time (FUZZ_SECONDS, default 10), with clang;
#   4. the benchmark's smoke run (it works; nothing about speed);
#   5. the browser tests (tests/web): Chromium against the real tallyd;
#   6. the Debian package (tests/package.sh): built, linted, its units
#      verified; as root, installed, served, backed up, removed, purged;
#      under a real systemd booted in systemd-nspawn (tests/systemd.sh)
#      where the machine's own PID 1 is not systemd;
#   7. deploy/demo.sh, twice, from another directory.
# Prints "N passed, N failed" last; exits non-zero if anything failed.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
passed=0
failed=0

stage() { printf '\n=== %s\n' "$*"; }
pass() { passed=$((passed + ${1:-1})); }
fail() { failed=$((failed + ${1:-1})); echo "FAILED: $2"; }

"$top/deploy/deps.sh" --test || { echo "cannot install the dependencies"; exit 1; }

# Builds in $1 with the cmake options that follow, then runs ctest there.
build_and_test() {
  local dir=$1; shift
  rm -rf "$dir"
  mkdir -p "$dir"
  if ! cmake -S "$top" -B "$dir" -DTALLY_TESTS=ON "$@" > "$dir/configure.log" 2>&1; then
    cat "$dir/configure.log"
    fail 1 "configure in $dir"
    return
  fi
  if ! cmake --build "$dir" -j"$(nproc)" > "$dir/build.log" 2>&1; then
    tail -n 60 "$dir/build.log"
    fail 1 "build in $dir"
    return
  fi
  grep -E 'warning:' "$dir/build.log" || true
  local log="$dir/ctest.log"
  (cd "$dir" && ctest --output-on-failure --timeout 300) 2>&1 | tee "$log"
  local total bad
  total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -n 1)
  bad=$(sed -n 's/.* \([0-9]*\) tests failed out of.*/\1/p' "$log" | tail -n 1)
  if [ -z "$total" ]; then
    fail 1 "ctest in $dir did not finish"
    return
  fi
  pass $((total - bad))
  [ "$bad" -eq 0 ] || fail "$bad" "ctest in $dir"
}

stage "build and test (RelWithDebInfo)"
build_and_test "$top/build/test"

stage "build and test under ASan and UBSan"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  build_and_test "$top/build/asan" -DCMAKE_BUILD_TYPE=Debug -DTALLY_SANITIZE=ON

stage "fuzzing"
if [ -x "$top/tests/fuzz.sh" ]; then
  if FUZZ_SECONDS=${FUZZ_SECONDS:-10} "$top/tests/fuzz.sh"; then pass; else fail 1 "fuzzing"; fi
else
  echo "tests/fuzz.sh is missing"
  fail 1 "fuzzing"
fi

stage "benchmark smoke run (no speed asserted)"
out=$("$top/bench/run.sh" --smoke 2>&1)
status=$?
echo "$out" | tail -n 5
if [ $status -eq 0 ] && echo "$out" | grep -q '^bench smoke: ok$'; then
  pass
else
  fail 1 "bench/run.sh --smoke (exit $status)"
fi

stage "browser tests (Chromium, tests/web)"
if [ -x "$top/build/test/tallyd" ] && [ -f "$top/build/test/web/index.html" ]; then
  log="$top/build/test/web-tests.log"
  timeout 600 node "$top/tests/web/run.mjs" "$top/build/test" 2>&1 | tee "$log"
  line=$(grep -E '^web: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
  if [ -z "$line" ]; then
    fail 1 "the browser tests did not finish"
  else
    ok=$(echo "$line" | sed 's/web: \([0-9]*\) passed.*/\1/')
    bad=$(echo "$line" | sed 's/.*passed, \([0-9]*\) failed/\1/')
    pass "$ok"
    [ "$bad" -eq 0 ] || fail "$bad" "browser tests"
  fi
else
  fail 1 "browser tests: build/test has no tallyd or no web pages"
fi

stage "the Debian package, under systemd (tests/systemd.sh, tests/package.sh)"
log="$top/build/package-tests.log"
timeout 900 "$top/tests/systemd.sh" 2>&1 | tee "$log"
line=$(grep -E '^package: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
if [ -z "$line" ]; then
  fail 1 "the package tests did not finish"
else
  ok=$(echo "$line" | sed 's/package: \([0-9]*\) passed.*/\1/')
  bad=$(echo "$line" | sed 's/.*passed, \([0-9]*\) failed/\1/')
  pass "$ok"
  [ "$bad" -eq 0 ] || fail "$bad" "package tests"
fi

stage "deploy/demo.sh, twice, from another directory"
for run in 1 2; do
  out=$(cd / && "$top/deploy/demo.sh" 2>&1)
  status=$?
  echo "$out" | head -n 20
  if [ $status -eq 0 ] && echo "$out" | grep -q '^H02 .* 10/10 ' &&
     echo "$out" | grep -q '^P25 ' &&
     echo "$out" | grep -q 'submitted the sample figures of 10 units and the district office for 2022'; then
    pass
  else
    fail 1 "demo run $run (exit $status)"
  fi
done
if pgrep -f "^$top/build/[^ ]*/tallyd " > /dev/null; then
  fail 1 "a tallyd process was left behind: $(pgrep -a -f "^$top/build/[^ ]*/tallyd ")"
fi

echo
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
