#!/usr/bin/env bash
# `make check`: every test against each build given (plain and sanitizer),
# then every fuzz harness over its seed corpus; one tally line at the end.
set -u
cd "$(dirname "$0")/.."
total_p=0 total_f=0 total_s=0
for b in "$@"; do
    echo "== tests on $b"
    out=$(BUILD=$b tests/run.sh 2>&1); rc=$?
    echo "$out"
    line=$(echo "$out" | tail -1)
    p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
    s=$(echo "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
    [ -n "$p" ] || { p=0; f=1; s=0; }
    [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ] && f=1
    total_p=$((total_p + p)); total_f=$((total_f + ${f:-0})); total_s=$((total_s + ${s:-0}))
done
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
