# A new user's whole way, as the README tells it: `esp01 flash myproject
# --port P` takes a project folder to a verified board (the official
# firmware downloaded from the stand-in for micropython.org, built with the
# project, written through the stub, MD5 checked), then files go onto the
# running MicroPython over its raw REPL and come back.  The same script runs
# build/esp01 and, in the Windows tier, esp01.exe under Wine with the ports
# as COM ports (tests/win32/tier.sh); the README's transcripts are its
# output ($JOURNEY_TRANSCRIPT, when set, gets a copy).
. "$SRCDIR/tests/lib.sh"
cd "$TMP" || exit 1
. "$SRCDIR/tests/romsim_lib.sh"
. "$SRCDIR/tests/peer_lib.sh"
if ! stub_sim_available; then
    skip "journey" "$STUB_MISSING"
    finish
fi
if ! have_wasm_peer; then
    skip "journey" "node or the npm MicroPython peer is missing (tests/install-deps.sh)"
    finish
fi
unset ESP01_PORT http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; stop_peers; rm -rf "$TMP"' EXIT
transcript() { # CMD...: run, keep what the user sees
    echo "\$ esp01 ${*:2}" >>journey.txt
    "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    cat "$TMP/err" "$TMP/out" >>journey.txt
    return $rc
}

# micropython.org's download page and files, on 127.0.0.1.
F=root/resources/firmware
mkdir -p "$F" root/download/ESP8266_GENERIC
"$MKFW" --variant 1M --version v1.24.1 --date 2024-11-29 "$F/ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1.bin" >/dev/null
echo '<a href="/resources/firmware/ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1.bin">x</a>' \
    >root/download/ESP8266_GENERIC/index.html
node "$SRCDIR/tests/peers/fwserver.mjs" --root "$TMP/root" --port-file "$TMP/port" \
    --log "$TMP/http.log" --lifetime 600 2>/dev/null &
PIDS+=($!)
for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
export ESP01_FIRMWARE_URL=http://127.0.0.1:$(cat port) ESP01_CACHE_DIR=$TMP/cache

mkdir -p myproject
printf 'import wifitools\nprint("hello from the ESP-01")\n' >myproject/main.py

# ---- flash: a blank 1 MiB board in its ROM loader --------------------------
start_stub_sim board
PIDS+=("$SIM_PID")
transcript "$ESP01" flash myproject --port "$TMP/board.tty" --after no-reset
check "journey: flash myproject exits 0 ($(tail -1 "$TMP/err"))" test $? -eq 0
stop_sim
check "journey: the firmware came from the download site" \
    grep -q 'ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1.bin' http.log
check "journey: the stub wrote it and the MD5 matched" grep -q 'MD5 verified' "$TMP/out"
# What is on the chip is what `esp01 build` makes for it, from the cache.
"$ESP01" build myproject --firmware "$ESP01_CACHE_DIR/ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1.bin" \
    -o built.bin -q --flash-size 1M >/dev/null 2>&1
check "journey: the board holds the built image" \
    same_range built.bin 0 board.flash 0 "$(stat -c %s built.bin)"
"$ESP01" fs tree board.flash >fsls.out 2>&1
check "journey: main.py and wifitools are in the board's filesystem" \
    sh -c "grep -q main.py fsls.out && grep -q wifitools fsls.out"

# ---- a second and third board at once (a classroom's worth, in small) -------
start_stub_sim b2; PIDS+=("$SIM_PID"); b2=$SIM_PID
start_stub_sim b3; PIDS+=("$SIM_PID")
transcript "$ESP01" flash myproject --port "$TMP/b2.tty" --port "$TMP/b3.tty" --after no-reset
check "journey: two boards flashed at once" test $? -eq 0
kill "$b2" "$SIM_PID" 2>/dev/null
check "journey: both written" grep -q '^2 of 2 boards written:$' "$TMP/out"
check "journey: each holds the image" \
    sh -c "cmp -s -n $(stat -c %s built.bin) built.bin b2.flash && cmp -s -n $(stat -c %s built.bin) built.bin b3.flash"

# ---- the running board: MicroPython behind a 115200 line ---------------------
if ! start_wasm mp --baud 115200 --rx-buffer 256; then
    fail "journey: MicroPython peer" "did not answer behind the relay"
    finish
fi
# This MicroPython build has the plain raw REPL only (no raw-paste mode).
export ESP01_NO_PASTE=1
printf 'LOG = "sensor.csv"\n' >settings.py
transcript "$ESP01" put settings.py :settings.py --port "$PEER_PORT"
check "journey: put over the raw REPL" test $? -eq 0
transcript "$ESP01" ls : --port "$PEER_PORT"
check "journey: ls shows it" grep -qx 'settings.py' "$TMP/out"
transcript "$ESP01" exec 'import settings; print(settings.LOG)' --port "$PEER_PORT"
check "journey: the board runs it" grep -qx 'sensor.csv' "$TMP/out"
"$ESP01" get :settings.py back.py --port "$PEER_PORT" >/dev/null 2>&1
check "journey: get gives the same bytes" cmp -s settings.py back.py

[ -n "${JOURNEY_TRANSCRIPT:-}" ] && cp journey.txt "$JOURNEY_TRANSCRIPT"
finish
