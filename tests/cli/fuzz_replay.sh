# Every fuzz harness over its whole seed corpus, built with the ordinary
# compiler (fuzz/replay.c instead of libFuzzer): a parser change that breaks
# on a known-hostile input fails here, in the quick tier, with no clang.
. "$(dirname "$0")/../lib.sh"
cd "$SRCDIR"
n=0
for h in fuzz/fuzz_*.c; do
    name=$(basename "$h" .c)
    bin=$BUILD_DIR/tests/fuzz/$name
    n=$((n + 1))
    if [ ! -x "$bin" ]; then fail "$name" "not built: $bin"; continue; fi
    if [ ! -d "fuzz/corpus/$name" ]; then fail "$name" "no corpus in fuzz/corpus/$name"; continue; fi
    if "$bin" "fuzz/corpus/$name" >"$TMP/replay.out" 2>&1; then
        ok "$name: $(cat "$TMP/replay.out")"
    else
        fail "$name" "$(tail -3 "$TMP/replay.out" | tr '\n' ' ')"
    fi
done
check "harnesses found ($n)" test "$n" -ge 15
# The replay must be able to fail: an input that makes the harness abort.
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\n#include <stdlib.h>\nint LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { if (n && d[0] == 0x42) abort(); return 0; }\n' >"$TMP/h.c"
if cc -o "$TMP/h" "$TMP/h.c" fuzz/replay.c 2>"$TMP/cc.err"; then
    printf 'B' >"$TMP/bad"
    { ( "$TMP/h" "$TMP/bad" ) >/dev/null 2>&1; } 2>/dev/null
    check "a crashing input fails the replay" test $? -ne 0
else
    fail "a crashing input fails the replay" "cannot build: $(head -2 "$TMP/cc.err")"
fi
finish
