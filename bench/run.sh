#!/usr/bin/env bash
# `make bench`: run every benchmark program (build/bench/*) and script
# (bench/*.sh other than this one).  Each prints its own results; the
# method and the numbers we keep are written up in bench/RESULTS.md.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export SHARED=${SHARED:-$(cd .. && pwd)/shared}
export ESP01=$PWD/$BUILD/esp01 TOOLS=$PWD/$BUILD/tests/tools BUILD_DIR=$PWD/$BUILD SRCDIR=$PWD
status=0
for b in "$BUILD"/bench/*; do
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b" || status=1
done
for s in bench/*.sh; do
    [ "$(basename "$s")" = run.sh ] && continue
    [ -f "$s" ] || continue
    echo "== $(basename "$s")"
    bash "$s" || status=1
done
exit $status
