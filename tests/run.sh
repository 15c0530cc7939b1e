#!/usr/bin/env bash
# Run every test against one build directory and print one tally line.
#   BUILD=build SHARED=../shared tests/run.sh
# Unit programs are build/tests/test_*; shell tests are tests/cli/*.sh.
# A skipped case fails under CI (CI=true): CI installs every peer, so a skip
# there means a missing install step.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export SHARED=${SHARED:-$(cd .. && pwd)/shared}
export ESP01=$PWD/$BUILD/esp01
export TOOLS=$PWD/$BUILD/tests/tools
export BUILD_DIR=$PWD/$BUILD
export SRCDIR=$PWD

passed=0 failed=0 skipped=0
log=$(mktemp)
run_one() {
    local what=$1; shift
    "$@" >"$log" 2>&1
    local rc=$?
    local p f s
    p=$(grep -c '^ok - ' "$log"); f=$(grep -c '^FAIL - ' "$log"); s=$(grep -c '^SKIP - ' "$log")
    grep -E '^(FAIL|SKIP) - ' "$log" | sed "s|^|  $what: |"
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "  $what: FAIL - exited $rc without a failing case"; tail -5 "$log" | sed 's/^/    /'
        f=1
    fi
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    printf '%-40s %3d ok %3d failed %3d skipped\n' "$what" "$p" "$f" "$s"
}

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    run_one "$(basename "$t")" "$t"
done
for t in tests/cli/*.sh; do
    [ -f "$t" ] || continue
    run_one "$(basename "$t")" bash "$t"
done
rm -f "$log"

if [ "${CI:-}" = true ] && [ "$skipped" -gt 0 ]; then
    echo "CI: $skipped skipped case(s) count as failures (a peer is not installed)"
    failed=$((failed + skipped))
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
