# esp01 firmware list/get/path against a micropython.org stand-in on
# 127.0.0.1 (tests/peers/fwserver.mjs, Node's HTTP and HTTPS servers):
# test-made board pages, synthetic firmware files from mkfw, and every way
# a download can go wrong.  After each failure the cache must hold nothing
# new (no file, no temporary file).
. "$SRCDIR/tests/lib.sh"
cd "$TMP" || exit 1
MKFW=$TOOLS/mkfw
SERVER=$SRCDIR/tests/peers/fwserver.mjs
if ! command -v node >/dev/null; then
    skip "firmware downloads" "no node (tests/install-deps.sh)"
    finish
fi
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
SERVER_PIDS=()
trap 'for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT

# start_server NAME [fwserver options]: serves $TMP/root, sets PORT.
start_server() {
    local name=$1; shift
    rm -f "$name.port"
    node "$SERVER" --root "$TMP/root" --port-file "$TMP/$name.port" --log "$TMP/$name.log" \
        --lifetime 300 "$@" 2>"$TMP/$name.err" &
    SERVER_PIDS+=($!)
    for _ in $(seq 100); do [ -s "$name.port" ] && { PORT=$(cat "$name.port"); return 0; }; sleep 0.05; done
    echo "server $name did not start: $(cat "$name.err")"; return 1
}

F=root/resources/firmware
mkdir -p "$F" root/download/ESP8266_GENERIC root/empty/download/ESP8266_GENERIC root/mirror
fw() { # NAME mkfw-options...: one file on the server, linked from the page
    local name=$1; shift
    "$MKFW" "$@" "$F/$name" >/dev/null
    echo "<a href=\"/resources/firmware/$name\">$name</a><br>" >> root/download/ESP8266_GENERIC/index.html
}
echo '<html><body><h2>Firmware</h2>' > root/download/ESP8266_GENERIC/index.html
fw ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1.bin --variant 1M --version v1.24.1 --date 2024-11-29
fw ESP8266_GENERIC-20241129-v1.24.1.bin --variant 2M --version v1.24.1 --date 2024-11-29
fw ESP8266_GENERIC-FLASH_512K-20241129-v1.24.1.bin --variant 512K --version v1.24.1 --date 2024-11-29
fw ESP8266_GENERIC-FLASH_1M-20240602-v1.23.0.bin --variant 1M --version v1.23.0 --date 2024-06-02
fw ESP8266_GENERIC-FLASH_1M-20250102-v1.25.0-preview.12.gabcdef1.bin --variant 1M \
    --version v1.25.0-preview.12.gabcdef1 --date 2025-01-02
# The broken ones, each a release of its own.
fw ESP8266_GENERIC-FLASH_1M-20231005-v1.21.0.bin --variant 1M --version v1.21.0 --corrupt md5
fw ESP8266_GENERIC-FLASH_1M-20230426-v1.20.0.bin --variant 1M --version v1.20.0 --corrupt checksum
fw ESP8266_GENERIC-FLASH_1M-20220618-v1.19.1.bin --variant 1M --version v1.19.1
fw ESP8266_GENERIC-FLASH_1M-20220117-v1.18.bin --variant 1M --version v1.18.1
fw ESP8266_GENERIC-FLASH_1M-20210902-v1.17.bin --variant 512K --version v1.17
fw ESP8266_GENERIC-FLASH_1M-20210418-v1.15.bin --variant 1M --version v1.15
fw ESP8266_GENERIC-FLASH_1M-20201221-v1.13.bin --variant 1M --version v1.13
fw ESP8266_GENERIC-FLASH_1M-20200902-v1.12.bin --variant 1M --version v1.12
echo '<a href="/resources/firmware/ESP8266_GENERIC-FLASH_1M-20190529-v1.11.bin">gone</a>' \
    >> root/download/ESP8266_GENERIC/index.html
"$MKFW" --variant 1M --version v1.14 root/mirror/ESP8266_GENERIC-FLASH_1M-20210202-v1.14.bin >/dev/null
echo '<a href="/resources/firmware/ESP8266_GENERIC-FLASH_1M-20210202-v1.14.bin">moved</a>' \
    >> root/download/ESP8266_GENERIC/index.html
echo '</body></html>' >> root/download/ESP8266_GENERIC/index.html
echo '<html><body><p>No downloads today. <a href="/download/">back</a></p></body></html>' \
    > root/empty/download/ESP8266_GENERIC/index.html
cat > root/rules.json <<EOF
{"/resources/firmware/ESP8266_GENERIC-FLASH_1M-20220618-v1.19.1.bin": {"truncate": 100000},
 "/resources/firmware/ESP8266_GENERIC-FLASH_1M-20210418-v1.15.bin": {"stall_after": 50000},
 "/resources/firmware/ESP8266_GENERIC-FLASH_1M-20201221-v1.13.bin": {"status": 500},
 "/resources/firmware/ESP8266_GENERIC-FLASH_1M-20200902-v1.12.bin": {"chunked": true},
 "/resources/firmware/ESP8266_GENERIC-FLASH_1M-20210202-v1.14.bin": {"redirect": "/mirror/ESP8266_GENERIC-FLASH_1M-20210202-v1.14.bin"}}
EOF

start_server http || { fail "server" "did not start"; finish; }
export ESP01_FIRMWARE_URL=http://127.0.0.1:$PORT ESP01_CACHE_DIR=$TMP/cache
C=$TMP/cache
N1M=ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1.bin
# The cache holds exactly these firmware names (sorted, space-separated),
# and no temporary files.
cache_is() { test "$(ls "$C" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')" = "$*"; }

# ---- list ------------------------------------------------------------------
expect_ok "list" "$ESP01" firmware list
check "list: newest release first" test "$(sed -n 2p out | awk '{print $1, $3}')" = "v1.24.1 generic"
check "list: 1M, 512K and generic of v1.24.1" \
    test "$(grep -c '^v1.24.1 ' out)" -eq 3
check "list: previews only with --all" sh -c "! grep -q preview out"
expect_ok "list --all --variant 1M" "$ESP01" firmware list --all --variant 1M
check "list --all: the preview, first" grep -q '^v1.25.0-preview.12.gabcdef1 ' <(sed -n 2p out)
check "list --variant: only 1M" sh -c "! awk 'NR>1 {print \$3}' out | grep -vx 1M"
expect_ok "list --json" "$ESP01" firmware list --json --variant 512K
check "list --json: one 512K entry, not cached" \
    grep -q '"version": "v1.24.1", "kind": "release", "date": "2024-11-29", "variant": "512K"' out
check "list --json: its URL" grep -q "\"url\": \"http://127.0.0.1:$PORT/resources/firmware/ESP8266_GENERIC-FLASH_512K-20241129-v1.24.1.bin\"" out
check "list: reads nothing into the cache" cache_is ""

# ---- get -------------------------------------------------------------------
expect_ok "get (latest 1M)" "$ESP01" firmware get
check "get: prints the cached path" test "$(cat out)" = "$C/$N1M"
check "get: the file is the server's, byte for byte" cmp -s "$C/$N1M" "$F/$N1M"
check "get: says it checked the file" grep -q 'downloaded .*: checked (image checksum, MD5 trailer, banner v1.24.1, 1M build)' err
check "get: the request named esp01 as User-Agent" grep -Eq '"ua":"esp01/[0-9.]* \((libcurl/|WinHTTP\))' http.log
n_before=$(grep -c "$N1M" http.log)
expect_ok "get again: from the cache" "$ESP01" firmware get 1.24.1
check "get again: no download" test "$(grep -c "$N1M" http.log)" -eq "$n_before"
check "get again: says so" grep -q 'v1.24.1 (1M build) from the cache' err
expect_ok "get v1.23.0 (a version)" "$ESP01" firmware get v1.23.0
check "get v1.23.0: that file" test "$(cat out)" = "$C/ESP8266_GENERIC-FLASH_1M-20240602-v1.23.0.bin"
expect_ok "get --variant generic" "$ESP01" firmware get latest --variant generic
check "get --variant generic: the 2 MiB+ file" test "$(basename "$(cat out)")" = ESP8266_GENERIC-20241129-v1.24.1.bin
expect_ok "get a preview by its tag" "$ESP01" firmware get v1.25.0-preview.12.gabcdef1
expect_ok "get a chunked reply (no Content-Length)" "$ESP01" firmware get 1.12
expect_ok "get through a redirect" "$ESP01" firmware get 1.14
check "redirect: followed to the mirror" grep -q '"url":"/mirror/ESP8266_GENERIC-FLASH_1M-20210202-v1.14.bin"' http.log
check "redirect: cached under its published name" cmp -s "$C/ESP8266_GENERIC-FLASH_1M-20210202-v1.14.bin" root/mirror/ESP8266_GENERIC-FLASH_1M-20210202-v1.14.bin
expect_ok "path latest" "$ESP01" firmware path
check "path: the newest cached 1M release" test "$(cat out)" = "$C/$N1M"
expect_fail "path: never downloads" 1 "no 512K release in the cache .*esp01 firmware get latest --variant 512K" \
    "$ESP01" firmware path --variant 512K
expect_ok "list: cached column" "$ESP01" firmware list --variant 1M
check "list: v1.24.1 cached with its size" \
    grep -Eq "^v1.24.1 +2024-11-29 +1M +$(stat -c %s "$F/$N1M") +yes$" out

# ---- every way a download fails: a clear error, nothing in the cache --------
GOOD=$(ls "$C" | tr '\n' ' ' | sed 's/ $//')
expect_fail "404" 1 "ESP8266_GENERIC-FLASH_1M-20190529-v1.11.bin: HTTP 404 \(not found\)" \
    "$ESP01" firmware get 1.11
check "404: cache unchanged" cache_is "$GOOD"
expect_fail "server error" 1 "v1.13.bin: HTTP 500 \(server error\)" "$ESP01" firmware get 1.13
expect_fail "truncated body" 1 "closed the connection after [0-9]+ bytes.*\(truncated\)" \
    "$ESP01" firmware get 1.19.1
check "truncated: cache unchanged" cache_is "$GOOD"
expect_fail "wrong MD5 trailer" 1 "v1.21.0.bin: the MD5 trailer does not match the contents \(stored [0-9a-f]{32}, computed [0-9a-f]{32}\): the file is damaged" \
    "$ESP01" firmware get 1.21.0
check "wrong MD5: cache unchanged" cache_is "$GOOD"
expect_fail "wrong image checksum" 1 "v1.20.0.bin: the image checksum does not match" \
    "$ESP01" firmware get 1.20.0
expect_fail "banner names another version" 1 "v1.18.bin: the firmware's banner says v1.18.1, not v1.18" \
    "$ESP01" firmware get 1.18
expect_fail "banner names another build" 1 "v1.17.bin: the firmware is the 512K build \(banner \"ESP module \(512K\)\"\), not the 1M build" \
    "$ESP01" firmware get 1.17
check "wrong banners: cache unchanged" cache_is "$GOOD"
t0=$(date +%s)
ESP01_HTTP_TIMEOUT=2 expect_fail "stalled server" 1 "v1.15.bin stalled: no data for 2 s \(50000 bytes received\)" \
    "$ESP01" firmware get 1.15
check "stalled: gave up within 10 s" test $(( $(date +%s) - t0 )) -lt 10
check "stalled: cache unchanged" cache_is "$GOOD"
expect_fail "a version nobody published" 1 "has no 1M build of v1.99.0 \(the newest release is v1.24.1\)" \
    "$ESP01" firmware get 1.99.0
ESP01_FIRMWARE_URL=http://127.0.0.1:$PORT/empty expect_fail "a page with no firmware links" 1 \
    "/empty/download/ESP8266_GENERIC/ links to no ESP8266 firmware file" "$ESP01" firmware get
ESP01_FIRMWARE_URL=http://127.0.0.1:$PORT/nowhere expect_fail "no board page (404)" 1 \
    "/nowhere/download/ESP8266_GENERIC/: HTTP 404" "$ESP01" firmware list
check "failures: cache unchanged" cache_is "$GOOD"
expect_fail "not a version" 1 "'1.x' is neither 'latest' nor a MicroPython version" "$ESP01" firmware get 1.x
expect_fail "bad --variant" 2 "--variant '4M-ROMFS' is not" "$ESP01" firmware get --variant 4M-ROMFS
ESP01_FIRMWARE_URL=ftp://127.0.0.1/ expect_fail "only http(s) base URLs" 1 "is not an http:// or https:// URL" \
    "$ESP01" firmware list

# ---- a damaged cached file is noticed and fetched again -----------------------
printf 'X' | dd of="$C/ESP8266_GENERIC-FLASH_1M-20240602-v1.23.0.bin" bs=1 seek=70000 conv=notrunc 2>/dev/null
expect_fail "path: a damaged cached file" 1 "v1.23.0.bin: the MD5 trailer does not match" "$ESP01" firmware path 1.23.0
expect_ok "get: replaces a damaged cached file" "$ESP01" firmware get 1.23.0
check "get: the replacement is whole" cmp -s "$C/ESP8266_GENERIC-FLASH_1M-20240602-v1.23.0.bin" "$F/ESP8266_GENERIC-FLASH_1M-20240602-v1.23.0.bin"

# ---- offline ---------------------------------------------------------------------
OFF=http://127.0.0.1:9   # the discard port: nothing listens on loopback
ESP01_FIRMWARE_URL=$OFF expect_ok "offline: get latest uses the cache" "$ESP01" firmware get
check "offline: the newest cached release" test "$(cat out)" = "$C/$N1M"
check "offline: the message says so" grep -q '^Firmware:  offline (cannot reach http://127.0.0.1:9/download/ESP8266_GENERIC/: .*): using the newest cached release, v1.24.1 (1M build)' err
ESP01_FIRMWARE_URL=$OFF expect_ok "offline: list shows the cache" "$ESP01" firmware list --variant 1M
check "offline: list says it is offline" grep -q '^offline (cannot reach' err
check "offline: list has the cached files" grep -q "^v1.24.1 .* yes$" out
ESP01_FIRMWARE_URL=$OFF expect_fail "offline: a version not cached" 1 \
    "1M v1.22.0 is not in the cache, and cannot reach" "$ESP01" firmware get 1.22.0
ESP01_FIRMWARE_URL=$OFF ESP01_CACHE_DIR=$TMP/empty-cache expect_fail "offline, empty cache" 1 \
    "offline \(cannot reach .*\), and no 1M release in the cache" "$ESP01" firmware get

# ---- where the cache is ------------------------------------------------------------
mkdir -p xdg home
if [ -n "${ESP01_WINE:-}" ]; then
    # Windows: %LOCALAPPDATA%\esp01\firmware, whatever XDG_CACHE_HOME says.
    env -u ESP01_CACHE_DIR XDG_CACHE_HOME=$TMP/xdg HOME=$TMP/home "$ESP01" firmware get 1.24.1 >out 2>err
    check "Windows: the cache is in LOCALAPPDATA ($(cat out))" \
        grep -Eq "^C:/users/[^/]+/AppData/Local/esp01/firmware/$N1M\$" out
    check "Windows: the file is there" \
        sh -c "cmp -s '$F/$N1M' '$WINEPREFIX'/drive_c/users/*/AppData/Local/esp01/firmware/'$N1M'"
else
env -u ESP01_CACHE_DIR XDG_CACHE_HOME=$TMP/xdg HOME=$TMP/home "$ESP01" firmware get 1.24.1 >out 2>err
check "XDG_CACHE_HOME/esp01/firmware" test "$(cat out)" = "$TMP/xdg/esp01/firmware/$N1M"
env -u ESP01_CACHE_DIR -u XDG_CACHE_HOME HOME=$TMP/home "$ESP01" firmware get 1.24.1 >out 2>err
check "else ~/.cache/esp01/firmware" test "$(cat out)" = "$TMP/home/.cache/esp01/firmware/$N1M"
fi

# ---- concurrent runs: one download, one whole file -----------------------------------
export ESP01_CACHE_DIR=$TMP/par
pids=()
for i in 1 2 3 4; do "$ESP01" firmware get 1.24.1 >par$i.out 2>par$i.err & pids+=($!); done
wait "${pids[@]}"
check "concurrent: all four print the same path" \
    test "$(cat par1.out par2.out par3.out par4.out | sort -u)" = "$TMP/par/$N1M"
check "concurrent: the file is whole" cmp -s "$TMP/par/$N1M" "$F/$N1M"
check "concurrent: one download, the others waited and used it" \
    test "$(grep -l 'from the cache' par*.err | wc -l)" -eq 3
check "concurrent: no temporary files left" test "$(ls -A "$TMP/par" | tr '\n' ' ')" = ".lock $N1M "

# ---- a progress bar on a terminal, none otherwise --------------------------------------
export ESP01_CACHE_DIR=$TMP/tty
if command -v script >/dev/null; then
    script -qec "'$ESP01' firmware get 1.24.1" /dev/null > tty.out 2>&1
    # Wine's console draws through cursor-movement sequences; the text
    # between them is what a Windows console shows.
    sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' tty.out > tty.txt
    check "terminal: a progress bar" grep -q 'Downloading \[' tty.txt
else
    skip "terminal: a progress bar" "no script(1) (util-linux)"
fi
rm -rf "$TMP/tty"
"$ESP01" firmware get 1.24.1 >out 2>err
check "not a terminal: no progress bar" sh -c "! grep -q Downloading err"

# ---- through an HTTP proxy (http_proxy) -------------------------------------------------
export ESP01_CACHE_DIR=$TMP/proxy
http_proxy=http://127.0.0.1:$PORT ESP01_FIRMWARE_URL=http://firmware.invalid \
    expect_ok "http_proxy is honoured" "$ESP01" firmware get 1.23.0
check "proxy: the request went through it, in absolute form" \
    grep -Eq '"url":"http://firmware.invalid(:80)?/resources/firmware/ESP8266_GENERIC-FLASH_1M-20240602-v1.23.0.bin","ua":"esp01[^"]*","proxy":true' http.log

# ---- esp01 build --firmware latest|VERSION ----------------------------------------------
export ESP01_CACHE_DIR=$TMP/build-cache
mkdir -p proj && printf 'print("hi")\n' > proj/main.py
expect_ok "build: without --firmware, the partition alone (no network)" \
    env ESP01_FIRMWARE_URL=http://127.0.0.1:9 "$ESP01" build proj -o part.bin
check "build: partition only" grep -q '^firmware:   none given' out
expect_ok "build --firmware latest" "$ESP01" build proj --firmware latest -o full.bin
check "build latest: the 1M build of v1.24.1 for the default 1 MiB chip" \
    grep -q '^firmware:   MicroPython v1.24.1 on 2024-11-29, ESP8266_GENERIC-FLASH_1M' out
check "build latest: a full image" test "$(stat -c %s full.bin)" -eq 1028096
"$ESP01" build proj --firmware "$TMP/build-cache/$N1M" -o same.bin -q
check "build latest: the same image as with the cached file" cmp -s full.bin same.bin
expect_fail "build: a release without that build" 1 "has no generic build of v1.23.0 \(the newest release is v1.24.1\)" \
    "$ESP01" build proj --firmware 1.23.0 --flash-size 2M -o two.bin
check "build: nothing written for it" test ! -e two.bin
expect_ok "build --firmware 1.24.1 --flash-size 4M" "$ESP01" build proj --firmware 1.24.1 --flash-size 4M -o four.bin
check "build 4M: the generic build" grep -q '^firmware:   MicroPython v1.24.1 on 2024-11-29, ESP8266_GENERIC,' out
expect_fail "build latest for 512K: no filesystem there" 1 \
    "build: this board has 512 KiB of flash: MicroPython's build for it \(512K\) has no filesystem" \
    "$ESP01" build proj --firmware latest --flash-size 512K -o x.bin
check "build 512K: nothing written" test ! -e x.bin

# ---- HTTPS with a test CA ------------------------------------------------------------------
if ! command -v openssl >/dev/null; then
    skip "https" "no openssl"
    finish
fi
mkca() { # NAME SUBJECT_ALT_NAME: a CA-signed server certificate
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=esp01 test CA $1" \
        -keyout "ca-$1.key" -out "ca-$1.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$1.key" -out "$1.csr" 2>/dev/null
    printf 'subjectAltName=%s\n' "$2" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA "ca-$1.pem" -CAkey "ca-$1.key" -CAcreateserial -days 2 \
        -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
mkca good IP:127.0.0.1
mkca wrongname DNS:firmware.example
start_server tls --https good.pem good.key || { fail "https server" "did not start"; finish; }
TLS=$PORT
start_server tls2 --https wrongname.pem wrongname.key || { fail "https server 2" "did not start"; finish; }
TLS2=$PORT
export ESP01_CACHE_DIR=$TMP/https
if [ -n "${ESP01_WINE:-}" ]; then
    # Windows trusts what its certificate store trusts: a CA bundle is refused
    # in one line.  Wine reports an untrusted CA as a failed handshake
    # (ERROR_WINHTTP_SECURE_CHANNEL_ERROR), Windows as a refused certificate.
    ESP01_FIRMWARE_URL=https://127.0.0.1:$TLS ESP01_CA_BUNDLE=$TMP/ca-good.pem expect_fail \
        "Windows: a CA bundle is refused, the store decides" 1 \
        "cannot use the CA bundle '.*ca-good.pem': on Windows the system's certificate store decides" \
        "$ESP01" firmware get 1.24.1
    ESP01_FIRMWARE_URL=https://127.0.0.1:$TLS expect_fail "https: a CA the system does not trust" 1 \
        "https://127.0.0.1:$TLS/download/ESP8266_GENERIC/: (the server's certificate is not trusted|the TLS handshake failed)" \
        "$ESP01" firmware get 1.24.1
else
ESP01_FIRMWARE_URL=https://127.0.0.1:$TLS ESP01_CA_BUNDLE=$TMP/ca-good.pem \
    expect_ok "https with the test CA" "$ESP01" firmware get 1.24.1
check "https: the file" cmp -s "$TMP/https/$N1M" "$F/$N1M"
rm -rf "$TMP/https"
ESP01_FIRMWARE_URL=https://127.0.0.1:$TLS expect_fail "https: a CA the system does not trust" 1 \
    "https://127.0.0.1:$TLS/download/ESP8266_GENERIC/: the server's certificate is not trusted" \
    "$ESP01" firmware get 1.24.1
ESP01_FIRMWARE_URL=https://127.0.0.1:$TLS2 ESP01_CA_BUNDLE=$TMP/ca-wrongname.pem expect_fail \
    "https: a certificate for another name" 1 "certificate is not trusted .*(127.0.0.1|name)" \
    "$ESP01" firmware get 1.24.1
fi
check "https failures: nothing cached" sh -c "! ls '$TMP/https'/*.bin 2>/dev/null"
finish
