#!/usr/bin/env bash
# Device transfer benchmarks over the slow-link relay at 115200 baud with a
# 256-byte dropping receive buffer (tests/tools/relay), against the real
# MicroPython peers.  Times are wall clock for the whole esp01 command.
#   - put of a 20 KB .py (cold: helpers uploaded first; warm: median of 3)
#     per encoding, on MicroPython 1.27 (wasm, plain raw mode)
#   - sync of an unchanged 20-file project (median of 3)
#   - 100 put/get round trips of random files, counting corrupted files
#   - raw-paste exec of 20 KB against the fake device (window 128)
set -u
cd "$(dirname "$0")/.."
: "${ESP01:=$PWD/build/esp01}" "${TOOLS:=$PWD/build/tests/tools}" "${SRCDIR:=$PWD}"
TMP=$(mktemp -d)
. tests/peer_lib.sh
trap 'stop_peers; rm -rf "$TMP"' EXIT
LINE=11520

now() { date +%s.%N; }
secs() { local t0; t0=$(now); "$@" >/dev/null 2>"$TMP/err" || { echo "FAILED: $* ($(head -c 200 "$TMP/err"))"; return 1; }; echo "$(now) - $t0" | bc -l; }
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
rate() { echo "scale=0; $1 / $2" | bc -l; }
pct() { echo "scale=1; 100 * $1 / $2 / $LINE" | bc -l; }

PY=$(ls /usr/lib/python3*/argparse.py 2>/dev/null | head -1)
if [ -n "$PY" ]; then head -c 20480 "$PY" > "$TMP/big.py"; else cat src/*.c | head -c 20480 > "$TMP/big.py"; fi
SIZE=$(stat -c %s "$TMP/big.py")

have_wasm_peer || { echo "SKIP: wasm peer missing"; exit 1; }
start_wasm wasm --baud 115200 --rx-buffer 256 || { echo "wasm peer did not start"; exit 1; }
export ESP01_PORT=$PEER_PORT ESP01_NO_PASTE=1
echo "peer: MicroPython 1.27 (wasm), plain raw mode, relay 115200 baud, 256-byte dropping buffer"
echo "file: $SIZE bytes of $(basename "${PY:-src/*.c}") (line rate $LINE B/s)"
"$ESP01" exec 'import gc;gc.collect()' >/dev/null
for enc in auto deflate base64 repr; do
    cold=
    if [ "$enc" = auto ]; then
        "$ESP01" exec "for k in [k for k in globals() if k[:2]=='_e']:del globals()[k]" >/dev/null
        cold=$(secs "$ESP01" put --encoding "$enc" "$TMP/big.py" :/tmp/big.py) || exit 1
    fi
    t1=$(secs "$ESP01" put --encoding "$enc" "$TMP/big.py" :/tmp/big.py) || exit 1
    t2=$(secs "$ESP01" put --encoding "$enc" "$TMP/big.py" :/tmp/big.py) || exit 1
    t3=$(secs "$ESP01" put --encoding "$enc" "$TMP/big.py" :/tmp/big.py) || exit 1
    m=$(median3 "$t1" "$t2" "$t3")
    "$ESP01" get :/tmp/big.py "$TMP/back.py" >/dev/null && cmp -s "$TMP/big.py" "$TMP/back.py" || echo "CORRUPTED ($enc)"
    printf 'put %-8s warm %.2f s = %s B/s of file = %s%% of line' "$enc" "$m" "$(rate "$SIZE" "$m")" "$(pct "$SIZE" "$m")"
    [ -n "$cold" ] && printf '   (cold, helpers sent first: %.2f s = %s%%)' "$cold" "$(pct "$SIZE" "$cold")"
    echo
done

mkdir -p "$TMP/proj/lib"
for i in $(seq 1 16); do head -c $((400 + i * 50)) "$TMP/big.py" > "$TMP/proj/mod$i.py"; done
for i in 1 2 3 4; do head -c 700 "$TMP/big.py" > "$TMP/proj/lib/l$i.py"; done
"$ESP01" sync "$TMP/proj" :/tmp/proj >/dev/null || echo "sync failed"
s1=$(secs "$ESP01" sync "$TMP/proj" :/tmp/proj); s2=$(secs "$ESP01" sync "$TMP/proj" :/tmp/proj); s3=$(secs "$ESP01" sync "$TMP/proj" :/tmp/proj)
printf 'sync of an unchanged 20-file project: %.2f s (median of 3)\n' "$(median3 "$s1" "$s2" "$s3")"

bad=0 failed=0
t0=$(now)
for i in $(seq 1 100); do
    n=$((300 + (i * 7919) % 6000))
    if [ $((i % 2)) -eq 0 ]; then head -c "$n" /dev/urandom > "$TMP/r"; else tail -c "$n" "$TMP/big.py" > "$TMP/r"; fi
    if "$ESP01" put "$TMP/r" :/tmp/r.bin >/dev/null 2>&1; then
        "$ESP01" get :/tmp/r.bin "$TMP/r.back" >/dev/null 2>&1 && cmp -s "$TMP/r" "$TMP/r.back" || bad=$((bad + 1))
    else
        failed=$((failed + 1))
    fi
done
printf '100 put/get round trips (wasm): %d corrupted, %d failed cleanly, %.1f s, relay dropped %s bytes\n' \
    "$bad" "$failed" "$(echo "$(now) - $t0" | bc -l)" "$(dropped_bytes)"
stop_peers

if have_microbit_peer && start_microbit mb --baud 115200 --rx-buffer 256; then
    export ESP01_PORT=$PEER_PORT
    unset ESP01_NO_PASTE
    head -c 4096 "$TMP/big.py" > "$TMP/mb.py"
    t=$(secs "$ESP01" put "$TMP/mb.py" :mb.py)
    printf 'micro:bit 1.9.2 (repr, 8 KB heap): put 4 KB .py %.2f s = %s%% of line\n' "$t" "$(pct 4096 "$t")"
    bad=0 failed=0
    for i in $(seq 1 100); do
        n=$((100 + (i * 7919) % 1500))
        head -c "$n" /dev/urandom > "$TMP/r"
        if "$ESP01" put "$TMP/r" :r.bin >/dev/null 2>&1; then
            "$ESP01" get :r.bin "$TMP/r.back" >/dev/null 2>&1 && cmp -s "$TMP/r" "$TMP/r.back" || bad=$((bad + 1))
        else
            failed=$((failed + 1))
        fi
    done
    printf '100 put/get round trips (micro:bit): %d corrupted, %d failed cleanly, relay dropped %s bytes\n' \
        "$bad" "$failed" "$(dropped_bytes)"
    stop_peers
fi

start_fake paste --window 128 || exit 1
stop_peers
start_relay paste --baud 115200 --rx-buffer 256 -- "$TOOLS/fake_repl" --window 128
code="x='$(head -c 20470 /dev/zero | tr '\0' a)'"
t=$(secs "$ESP01" exec --port "$PEER_PORT" "$code")
printf 'raw-paste exec of %d bytes (fake device, window 128): %.2f s = %s%% of line, relay dropped %s bytes\n' \
    "${#code}" "$t" "$(pct "${#code}" "$t")" "$(dropped_bytes)"
