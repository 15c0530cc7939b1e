#!/usr/bin/env bash
# WebREPL transfer benchmarks: tests/tools/webrepl-server.mjs on loopback
# (MicroPython 1.27 wasm inside, plain raw mode, the ESP8266's 256-byte
# input buffer modelled) against the serial relay at 115200 baud with a
# 256-byte dropping buffer, same peer, same files, same run.  Times are
# wall clock for the whole esp01 command (connect, login, raw REPL,
# transfer, check, rename, close).
#   - put of a 20 KB .py: warm median of 3 (helpers already on the board)
#   - the same through WebREPL's file protocol (--webrepl-files)
#   - get of it, both ways
#   - sync of an unchanged 20-file project (median of 3)
#   - bytes the modelled buffer dropped
set -u
cd "$(dirname "$0")/.."
: "${ESP01:=$PWD/build/esp01}" "${TOOLS:=$PWD/build/tests/tools}" "${SRCDIR:=$PWD}"
TMP=$(mktemp -d)
. tests/peer_lib.sh
trap 'stop_peers; rm -rf "$TMP"' EXIT

now() { date +%s.%N; }
secs() { local t0; t0=$(now); "$@" >/dev/null 2>"$TMP/err" || { echo "FAILED: $* ($(head -c 200 "$TMP/err"))" >&2; echo 999; return 1; }; echo "$(now) - $t0" | bc -l; }
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }

PY=$(ls /usr/lib/python3*/argparse.py 2>/dev/null | head -1)
if [ -n "$PY" ]; then head -c 20480 "$PY" > "$TMP/big.py"; else cat src/*.c | head -c 20480 > "$TMP/big.py"; fi
SIZE=$(stat -c %s "$TMP/big.py")
mkdir -p "$TMP/proj/lib"
for i in $(seq 1 16); do head -c $((400 + i * 50)) "$TMP/big.py" > "$TMP/proj/mod$i.py"; done
for i in 1 2 3 4; do head -c 700 "$TMP/big.py" > "$TMP/proj/lib/l$i.py"; done

have_wasm_peer || { echo "SKIP: wasm peer missing"; exit 1; }
export ESP01_NO_PASTE=1 ESP01_WEBREPL_PASSWORD=s3cret
echo "file: $SIZE bytes of $(basename "${PY:-src/*.c}"); peer MicroPython 1.27 (wasm), plain raw mode"

# bench_port LABEL EXTRA_OPTS...: the measurements over $ESP01_PORT.
bench_port() {
    local label=$1; shift
    "$ESP01" put "$@" "$TMP/big.py" :/tmp/big.py >/dev/null || echo "$label: first put failed"
    local a b c
    a=$(secs "$ESP01" put "$@" "$TMP/big.py" :/tmp/big.py)
    b=$(secs "$ESP01" put "$@" "$TMP/big.py" :/tmp/big.py)
    c=$(secs "$ESP01" put "$@" "$TMP/big.py" :/tmp/big.py)
    printf '%-34s put 20 KB .py: %.2f s (median of 3: %.2f %.2f %.2f)\n' "$label" "$(median3 "$a" "$b" "$c")" "$a" "$b" "$c"
    a=$(secs "$ESP01" get "$@" :/tmp/big.py "$TMP/back.py")
    cmp -s "$TMP/big.py" "$TMP/back.py" || echo "$label: CORRUPTED"
    printf '%-34s get 20 KB .py: %.2f s\n' "$label" "$a"
}

if start_relay serial --baud 115200 --rx-buffer 256 -- node "$SRCDIR/tests/tools/mp-wasm-repl.mjs" "$MP_WASM" && wait_ready; then
    export ESP01_PORT=$PEER_PORT
    bench_port "serial relay 115200"
    "$ESP01" sync "$TMP/proj" :/tmp/proj >/dev/null || echo "sync failed"
    s1=$(secs "$ESP01" sync "$TMP/proj" :/tmp/proj); s2=$(secs "$ESP01" sync "$TMP/proj" :/tmp/proj); s3=$(secs "$ESP01" sync "$TMP/proj" :/tmp/proj)
    printf '%-34s sync unchanged 20 files: %.2f s (median of 3)\n' "serial relay 115200" "$(median3 "$s1" "$s2" "$s3")"
    printf '%-34s relay dropped %s bytes\n' "serial relay 115200" "$(dropped_bytes)"
    stop_peers
else
    echo "serial relay peer did not start"
fi

if start_webrepl bench --rx-buffer 256; then
    export ESP01_PORT=$WS_URL
    bench_port "WebREPL, raw REPL"
    bench_port "WebREPL, --webrepl-files" --webrepl-files
    "$ESP01" sync "$TMP/proj" :/tmp/proj >/dev/null || echo "sync failed"
    s1=$(secs "$ESP01" sync "$TMP/proj" :/tmp/proj); s2=$(secs "$ESP01" sync "$TMP/proj" :/tmp/proj); s3=$(secs "$ESP01" sync "$TMP/proj" :/tmp/proj)
    printf '%-34s sync unchanged 20 files: %.2f s (median of 3)\n' "WebREPL" "$(median3 "$s1" "$s2" "$s3")"
    c1=$(secs "$ESP01" exec pass); c2=$(secs "$ESP01" exec pass); c3=$(secs "$ESP01" exec pass)
    printf '%-34s exec pass (connect, login, raw REPL, close): %.3f s (median of 3)\n' "WebREPL" "$(median3 "$c1" "$c2" "$c3")"
    printf '%-34s server: %s\n' "WebREPL" "$(cat "$WS_STATS")"
    stop_peers
else
    echo "WebREPL server did not start"
fi
