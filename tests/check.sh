#!/usr/bin/env bash
# `make check`: every test against each build given (plain and sanitizer),
# then every fuzz harness over its seed corpus; one tally line at the end.
set -u
cd "$(dirname "$0")/.."
total_p=0 total_f=0 total_s=0
# add_tally OUTPUT RC: adds the "P passed, F failed, S skipped" line that
# ends OUTPUT (tests/run.sh, tests/win32/tier.sh) to the totals; no such
# line, or a failed run without a failing case, is one failure.
add_tally() {
    local line p f s
    line=$(echo "$1" | tail -1)
    p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
    s=$(echo "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
    [ -n "$p" ] || { p=0; f=1; s=0; }
    [ "$2" -ne 0 ] && [ "${f:-0}" -eq 0 ] && f=1
    total_p=$((total_p + p)); total_f=$((total_f + ${f:-0})); total_s=$((total_s + ${s:-0}))
}
for b in "$@"; do
    echo "== tests on $b"
    out=$(BUILD=$b tests/run.sh 2>&1); rc=$?
    echo "$out"
    add_tally "$out" "$rc"
done
# The Windows tier (tests/win32/tier.sh): esp01.exe under Wine.  Only with
# CHECK_WINDOWS=1 (the Makefile's default; 0 on a machine without MinGW and Wine):
# then a .exe that does not link is a failure, and no cross compiler a skip
# (a failure under CI, which installs it).
if [ "${CHECK_WINDOWS:-0}" = 1 ]; then
    echo "== Windows tier (esp01.exe under Wine)"
    if ! command -v "${WIN_CC:-x86_64-w64-mingw32-gcc}" >/dev/null; then
        echo "SKIP - windows: no ${WIN_CC:-x86_64-w64-mingw32-gcc} (gcc-mingw-w64-x86-64)"
        if [ "${CI:-}" = true ]; then total_f=$((total_f + 1)); else total_s=$((total_s + 1)); fi
    elif ! make -s windows build/win64/wincom_probe.exe build/win64/os_probe.exe >/tmp/esp01-windows-build.log 2>&1; then
        echo "FAIL - make windows does not link (see /tmp/esp01-windows-build.log)"
        tail -5 /tmp/esp01-windows-build.log | sed 's/^/    /'
        total_f=$((total_f + 1))
    else
        out=$(BUILD=${1:-build} tests/win32/tier.sh 2>&1); rc=$?
        echo "$out"
        add_tally "$out" "$rc"
    fi
else
    echo "== Windows tier: off (make check CHECK_WINDOWS=1 turns it on)"
fi
echo "== fuzz harnesses over their corpora (libFuzzer)"
# Each harness replays its corpus, then a short bounded run so new paths get
# a look; one harness per core at a time.
fuzz_one() {
    local fz=$1 n scratch r
    n=$(basename "$fz")
    if [ ! -d "fuzz/corpus/$n" ]; then
        echo "FAIL - $n: no corpus in fuzz/corpus/$n"; return
    fi
    if "$fz" -runs=0 "fuzz/corpus/$n" >/dev/null 2>&1 &&
       { scratch=$(mktemp -d); "$fz" -runs=20000 -max_len=65536 "$scratch" "fuzz/corpus/$n" >"/tmp/$n.log" 2>&1; r=$?; rm -rf "$scratch"; [ $r -eq 0 ]; }; then
        echo "ok - $n"
    else
        echo "FAIL - $n (see /tmp/$n.log)"; tail -20 "/tmp/$n.log"
    fi
}
export -f fuzz_one
fuzzout=$(ls build/fuzz/fuzz_* 2>/dev/null | while read -r f; do [ -x "$f" ] && echo "$f"; done |
          xargs -r -P "$(nproc 2>/dev/null || echo 1)" -I{} bash -c 'fuzz_one "$1"' _ {})
echo "$fuzzout"
nf=$(echo "$fuzzout" | grep -c '^ok - ')
ff=$(echo "$fuzzout" | grep -c '^FAIL - ')
[ "$nf" -gt 0 ] || { echo "FAIL - no fuzz harness was built (make fuzz-build)"; ff=$((ff + 1)); }
total_p=$((total_p + nf)); total_f=$((total_f + ff))
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" -eq 0 ]
