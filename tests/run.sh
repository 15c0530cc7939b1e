#!/usr/bin/env bash
# Run every test against one build directory and print one tally line.
#   BUILD=build SHARED=../shared tests/run.sh [SCRIPT...]
# Unit programs are build/tests/test_*; shell tests are tests/cli/*.sh.  With
# SCRIPT arguments (unit program names or tests/cli paths) only those run.
#
# Independent scripts run concurrently, ESP01_TEST_JOBS at a time (default:
# twice the cores, since most of a script's time is spent waiting on a
# simulated serial line, not computing).  Each script has its own temp dir
# (tests/lib.sh), ptys and ports (every server binds port 0 and reports the
# one it got), so they cannot see each other.  The slowest scripts of the last
# run start first; a result line is printed as each script ends and the
# tally at the end covers them all.
#
# A skipped case fails under CI (CI=true): CI installs every peer, so a skip
# there means a missing install step.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export SHARED=${SHARED:-$(cd .. && pwd)/shared}
export ESP01=${ESP01:-$PWD/$BUILD/esp01}
export TOOLS=$PWD/$BUILD/tests/tools
export BUILD_DIR=$PWD/$BUILD
export SRCDIR=$PWD
jobs=${ESP01_TEST_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1

out=$(mktemp -d "${TMPDIR:-/tmp}/esp01-run.XXXXXX")
trap 'rm -rf "$out"' EXIT
times=$BUILD/.test-seconds   # "seconds name" of the last run, slowest first

# The list: name and command, one per line ("unit NAME" or "cli PATH").
list() {
    if [ $# -gt 0 ]; then
        for a in "$@"; do
            case $a in
                *.sh) echo "cli $a" ;;
                *) echo "unit $BUILD/tests/$(basename "$a")" ;;
            esac
        done
        return
    fi
    for t in "$BUILD"/tests/test_*; do [ -x "$t" ] && echo "unit $t"; done
    for t in tests/cli/*.sh; do [ -f "$t" ] && echo "cli $t"; done
}
# Slowest first, by the last run's times; new scripts first of all.
order() {
    awk -v tf="$times" 'BEGIN { while ((getline l < tf) > 0) { split(l, a, " "); s[a[2]] = a[1] } }
                        { n = $2; sub(".*/", "", n); print (n in s ? s[n] : 1e9), NR, $0 }' |
        sort -k1,1nr -k2,2n | cut -d' ' -f3-
}

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

run_one() {   # INDEX KIND PATH
    local i=$1 kind=$2 path=$3 name log rc p f s t0 t1
    name=$(basename "$path"); log=$out/$i.log
    t0=$(date +%s.%N)
    if [ "$kind" = unit ]; then "$path" >"$log" 2>&1; else bash "$path" >"$log" 2>&1; fi
    rc=$?
    t1=$(date +%s.%N)
    p=$(grep -c '^ok - ' "$log"); f=$(grep -c '^FAIL - ' "$log"); s=$(grep -c '^SKIP - ' "$log")
    {
        grep -E '^(FAIL|SKIP) - ' "$log" | sed "s|^|  $name: |"
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
            echo "  $name: FAIL - exited $rc without a failing case"; tail -5 "$log" | sed 's/^/    /'
            f=1
        fi
        printf '%-40s %3d ok %3d failed %3d skipped %6s s\n' "$name" "$p" "$f" "$s" "$(secs "$t0" "$t1")"
    } >"$out/$i.sum"
    echo "$p $f $s" >"$out/$i.count"
    echo "$(secs "$t0" "$t1") $name" >"$out/$i.time"
    cat "$out/$i.sum"
}

mapfile -t todo < <(list "$@" | order)
i=0 running=0
for entry in "${todo[@]}"; do
    kind=${entry%% *} path=${entry#* }
    [ -n "$kind" ] || continue
    i=$((i + 1))
    if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
    run_one "$i" "$kind" "$path" &
    running=$((running + 1))
done
wait

passed=0 failed=0 skipped=0 n=0
for c in "$out"/*.count; do
    [ -f "$c" ] || continue
    read -r p f s <"$c"
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s)); n=$((n + 1))
done
if [ "$n" -ne "$i" ]; then
    echo "  run.sh: FAIL - $((i - n)) of $i scripts left no result"
    failed=$((failed + i - n))
fi
# Keep the times only for a whole run, so a partial one does not reorder.
if [ $# -eq 0 ] && [ "$n" -gt 0 ]; then
    cat "$out"/*.time | sort -k1,1nr >"$times.tmp" && mv "$times.tmp" "$times"
fi

if [ "${CI:-}" = true ] && [ "$skipped" -gt 0 ]; then
    echo "CI: $skipped skipped case(s) count as failures (a peer is not installed)"
    failed=$((failed + skipped))
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
