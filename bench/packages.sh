# esp01 build with packages (umqtt.simple, umqtt.robust, requests, logging,
# ssd1306): a cold build (no esp01.lock, empty cache: the package jsons and
# files come over HTTP from the stand-in index on 127.0.0.1,
# tests/peers/fwserver.mjs), a warm build (esp01.lock + cache, the index
# unreachable) and the same project without packages; wall time by
# hyperfine (median), peak memory by GNU time.  Then `esp01 mip install` of
# the same set onto MicroPython (WebAssembly) behind the 115200-baud relay
# with its 256-byte receive buffer, timed once on a fresh board.
set -eu
if ! command -v node >/dev/null || [ ! -d "$SHARED/fixtures/mip/v2" ]; then
    echo "skipped: node or $SHARED/fixtures/mip is missing"
    exit 0
fi
W=$(mktemp -d)
SRV=
trap '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null; rm -rf "$W"' EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
node "$SRCDIR/tests/peers/fwserver.mjs" --root "$SHARED/fixtures/mip" --port-file "$W/port" \
    --lifetime 600 2>/dev/null &
SRV=$!
for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.05; done
IDX=http://127.0.0.1:$(cat "$W/port")/v2
"$TOOLS/mkfw" --variant 1M "$W/fw.bin"
mkdir -p "$W/p/lib" "$W/bare/lib"
for i in 0 1 2 3 4 5 6 7; do
    head -c $((300 + i * 900)) /dev/urandom | base64 > "$W/p/lib/mod$i.py"
done
head -c 4000 /dev/urandom | base64 > "$W/p/main.py"
cp -r "$W/p/." "$W/bare/"
printf '{"deps": [["umqtt.simple", "latest"], ["umqtt.robust", "latest"], ["requests", "latest"], ["logging", "latest"], ["ssd1306", "latest"]]}\n' \
    > "$W/p/package.json"
export ESP01_CACHE_DIR=$W/cache
B="$ESP01 build $W/p --firmware $W/fw.bin -o $W/o.bin -q --mtime 1"

median_ms() { awk -F, 'NR==2 { printf "%.2f", $4 * 1000 }' "$1"; }
run() { # NAME PREPARE CMD
    hyperfine -N --warmup 3 --runs 30 --prepare "$2" --export-csv "$W/h.csv" "$3" >/dev/null 2>&1 ||
        hyperfine --warmup 3 --runs 30 --prepare "$2" --export-csv "$W/h.csv" "$3" >/dev/null
    eval "$2"
    local rss
    rss=$(/usr/bin/time -f %M $3 2>&1 >/dev/null | tail -1)
    printf '%-44s median %7s ms   max RSS %6s KiB\n' "$1" "$(median_ms "$W/h.csv")" "$rss"
}
$B --index "$IDX" >/dev/null
files=$(find "$W/cache/mip" -type f | wc -l)
bytes=$(find "$W/cache/mip" -type f -exec cat {} + | wc -c)
echo "5 packages, $files files, $bytes bytes; project 9 files; loopback index"
run "cold: resolve over HTTP, fill the cache" "rm -rf $W/cache $W/p/esp01.lock" "$B --index $IDX"
run "cold from a mirror folder (no HTTP)" "rm -rf $W/cache $W/p/esp01.lock" "$B --index $SHARED/fixtures/mip/v2"
run "warm: esp01.lock + cache, index unreachable" "true" "$B --index http://127.0.0.1:1/v2"
run "the same project without packages" "true" "$ESP01 build $W/bare --firmware $W/fw.bin -o $W/o.bin -q --mtime 1"

# mip install onto a running board, over the line a real ESP-01 has.
TMP=$W
. "$SRCDIR/tests/peer_lib.sh"
trap '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null; stop_peers; rm -rf "$W"' EXIT
if have_wasm_peer && start_wasm mp --baud 115200 --rx-buffer 256; then
    t0=$(date +%s.%N)
    if ESP01_NO_PASTE=1 "$ESP01" mip install umqtt.simple umqtt.robust requests logging ssd1306 \
            --index "$IDX" --port "$PEER_PORT" >"$W/mip.out" 2>&1; then
        t1=$(date +%s.%N)
        awk -v a="$t0" -v b="$t1" -v f="$(grep -c . "$W/mip.out")" \
            'BEGIN { printf "mip install of the 5 packages to MicroPython at 115200: %.2f s\n", b - a }'
        tail -1 "$W/mip.out"
    else
        echo "mip install failed: $(tail -2 "$W/mip.out")"
    fi
else
    echo "mip install: the MicroPython peer is missing or did not start"
fi
