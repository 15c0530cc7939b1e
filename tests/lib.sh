# tests/lib.sh - helpers for the shell tests in tests/cli/.  Each case prints
# "ok - name" or "FAIL - name: why", the same lines the C harness prints, and
# tests/run.sh tallies them.  Sourced; expects ESP01, TOOLS, SHARED from run.sh.

set -u
T_FAILED=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/esp01-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

ok()   { echo "ok - $1"; }
fail() { echo "FAIL - $1: $2"; T_FAILED=1; }
skip() { echo "SKIP - $1: $2"; }

# expect_ok NAME CMD...: CMD must exit 0. Its output is kept in $TMP/out, $TMP/err.
expect_ok() {
    local name=$1; shift
    if "$@" >"$TMP/out" 2>"$TMP/err"; then ok "$name"
    else fail "$name" "exit $? from: $* ($(head -c 300 "$TMP/err"))"; fi
}

# expect_fail NAME CODE REGEX CMD...: CMD must exit CODE and print a one-line
# error on stderr matching REGEX.
expect_fail() {
    local name=$1 code=$2 re=$3; shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    if [ "$rc" -ne "$code" ]; then
        fail "$name" "exit $rc, wanted $code: $* ($(head -c 300 "$TMP/err"))"
    elif ! grep -Eq -- "$re" "$TMP/err"; then
        fail "$name" "stderr does not match /$re/: $(head -c 300 "$TMP/err")"
    else ok "$name"; fi
}

# check NAME CMD...: a plain assertion (e.g. check "sizes" test 5 -eq "$n").
check() {
    local name=$1; shift
    if "$@"; then ok "$name"; else fail "$name" "false: $*"; fi
}

finish() { exit "$T_FAILED"; }
