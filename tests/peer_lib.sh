# tests/peer_lib.sh - start real MicroPython peers (and the fake raw-paste
# device) behind tests/tools/relay for the device command tests.  Sourced
# after tests/lib.sh.  Each start_* prints nothing and sets PEER_PORT,
# PEER_RELAY (the relay's pid) and PEER_STATS; stop_peers ends them all.

PEER_PIDS=()
MP_WASM=$SRCDIR/tests/peers/node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs
MICROBIT_HEX=/usr/share/firmware-microbit-micropython/firmware.hex

stop_peers() {
    local p
    for p in "${PEER_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PEER_PIDS[@]}"; do wait "$p" 2>/dev/null; done
    PEER_PIDS=()
}
trap 'stop_peers; rm -rf "$TMP"' EXIT

have_wasm_peer() { command -v node >/dev/null && [ -f "$MP_WASM" ]; }
have_microbit_peer() { command -v qemu-system-arm >/dev/null && [ -f "$MICROBIT_HEX" ]; }

# start_relay NAME RELAY_OPTS... -- PROGRAM...
start_relay() {
    local name=$1; shift
    PEER_PORT=$TMP/$name.tty
    PEER_STATS=$TMP/$name.stats
    "$TOOLS/relay" --link "$PEER_PORT" --stats "$PEER_STATS" "$@" 2>"$TMP/$name.log" &
    PEER_RELAY=$!
    PEER_PIDS+=("$PEER_RELAY")
    local i
    for i in $(seq 100); do [ -e "$PEER_PORT" ] && return 0; sleep 0.05; done
    return 1
}

# The real peers need a moment to boot before they answer Ctrl-C.
wait_ready() {
    local i
    for i in $(seq 40); do
        "$ESP01" exec --port "$PEER_PORT" --no-paste 'print(6*7)' 2>/dev/null | grep -q 42 && return 0
        sleep 0.25
    done
    return 1
}

start_wasm() { # NAME RELAY_OPTS...
    local name=$1; shift
    start_relay "$name" "$@" -- node "$SRCDIR/tests/tools/mp-wasm-repl.mjs" "$MP_WASM" && wait_ready
}

start_microbit() { # NAME RELAY_OPTS...
    local name=$1; shift
    start_relay "$name" "$@" -- qemu-system-arm -M microbit -display none \
        -monitor none -serial /dev/fd/0 -device "loader,file=$MICROBIT_HEX" && wait_ready
}

start_fake() { # NAME FAKE_OPTS...
    local name=$1; shift
    start_relay "$name" --baud 1000000 -- "$TOOLS/fake_repl" "$@"
}

dropped_bytes() { sed -n 's/^dropped=\([0-9]*\).*/\1/p' "$PEER_STATS" 2>/dev/null || echo 0; }

# start_webrepl NAME SERVER_OPTS...: tests/tools/webrepl-server.mjs with the
# wasm MicroPython inside, on 127.0.0.1; sets WS_URL, WS_PID and WS_STATS.
# The password is $WS_PASSWORD (default "s3cret").
start_webrepl() {
    local name=$1; shift
    local pf=$TMP/$name.wsport
    WS_STATS=$TMP/$name.wsstats
    rm -f "$pf"
    node "$SRCDIR/tests/tools/webrepl-server.mjs" --mp "$MP_WASM" \
        --password "${WS_PASSWORD:-s3cret}" --port-file "$pf" --stats "$WS_STATS" \
        --lifetime 900 "$@" 2>"$TMP/$name.wslog" &
    WS_PID=$!
    PEER_PIDS+=("$WS_PID")
    local i
    for i in $(seq 100); do [ -s "$pf" ] && break; sleep 0.05; done
    [ -s "$pf" ] || return 1
    WS_URL=ws://127.0.0.1:$(cat "$pf")
}
ws_stat() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" "$WS_STATS" 2>/dev/null || echo 0; }
