# Packages: esp01 build with package.json / --with, and esp01 mip, against a
# stand-in for micropython.org's index ($SHARED/fixtures/mip, built with
# micropython-lib's own tools) served by Node's HTTP server on 127.0.0.1
# (tests/peers/fwserver.mjs, with its fault rules), and a third-party
# package.json with "urls" and "deps".  The files that land in the image
# are imported by MicroPython (WebAssembly), and `esp01 mip install` goes
# to that MicroPython over a pty.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/peer_lib.sh"
cd "$TMP" || exit 1
SERVER=$SRCDIR/tests/peers/fwserver.mjs
if ! command -v node >/dev/null || [ ! -d "$SHARED/fixtures/mip/v2" ]; then
    skip "packages" "node or $SHARED/fixtures/mip is missing"
    finish
fi
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
unset ESP01_MIP_INDEX
SERVER_PIDS=()
trap 'stop_peers; for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
export ESP01_CACHE_DIR=$TMP/cache ESP01_HTTP_TIMEOUT=3

# start_server NAME ROOT: sets PORT.
start_server() {
    local name=$1 root=$2
    rm -f "$name.port"
    node "$SERVER" --root "$root" --port-file "$TMP/$name.port" --log "$TMP/$name.log" \
        --lifetime 600 2>"$TMP/$name.err" &
    SERVER_PIDS+=($!)
    for _ in $(seq 100); do [ -s "$name.port" ] && { PORT=$(cat "$name.port"); return 0; }; sleep 0.05; done
    echo "server $name did not start: $(cat "$name.err")"; return 1
}

cp -r "$SHARED/fixtures/mip" www
# A third-party package: "urls" relative to its own json, and a dep.
mkdir -p www/3p www/bad
printf 'def hello():\n    return "hi from util"\n' > www/3p/util.py
start_server idx "$TMP/www" || { fail "index server" "did not start"; finish; }
IDX=http://127.0.0.1:$PORT/v2
BASE=http://127.0.0.1:$PORT
printf '{"version": "0.3.1", "urls": [["mylib/util.py", "util.py"]], "deps": [["logging", "latest"]]}\n' \
    > www/3p/package.json
printf '{"urls": [["../../boot.py", "../3p/util.py"]]}\n' > www/bad/escape.json
printf '{"urls": [["x.py", "../3p/util.py"]' > www/bad/notjson.json
{ printf '{"urls": [], "version": "'; head -c 300000 /dev/zero | tr '\0' 'a'; printf '"}\n'; } > www/bad/huge.json
DEAD=http://127.0.0.1:1/v2

"$TOOLS/mkfw" --variant 1M fw.bin >/dev/null
mkdir -p proj
printf 'import umqtt.simple\nimport logging\nprint("up")\n' > proj/main.py
printf '{"deps": [["umqtt.simple", "latest"], ["logging", "latest"]]}\n' > proj/package.json
export SOURCE_DATE_EPOCH=1700000000

expect_ok "build with package.json" "$ESP01" build proj --firmware fw.bin -o a.bin --index "$IDX"
cp out build1.out
check "report: the packages, resolved from the index" grep -q '^packages:   2, 3 files, .* (bytecode, resolved from the index)' build1.out
check "report: umqtt.simple with version, files, bytes, blocks" \
    grep -Eq '^  umqtt.simple 1\.8\.0: 2 files, [0-9]+ bytes, [0-9]+ blocks$' build1.out
check "report: logging" grep -Eq '^  logging 0\.6\.2: 1 file, [0-9]+ bytes, 1 block$' build1.out
check "report: the filesystem budget" grep -Eq '^[0-9]+ files, [0-9]+ bytes; filesystem [0-9]+ of [0-9]+ blocks used' build1.out
check "esp01.lock written beside package.json" test -s proj/esp01.lock
expect_ok "fs ls the image's /lib" "$ESP01" fs ls a.bin lib
check "lib holds logging.mpy, ssl.mpy, umqtt/" sh -c "grep -q logging.mpy out && grep -q ssl.mpy out && grep -q umqtt out"
expect_ok "fs ls lib/umqtt" "$ESP01" fs ls a.bin lib/umqtt
check "lib/umqtt/simple.mpy is there" grep -q 'simple.mpy' out
expect_ok "fs ls /" "$ESP01" fs ls a.bin
check "package.json and esp01.lock stay on the host" sh -c "! grep -Eq 'package.json|esp01.lock' out"
expect_ok "fs extract" "$ESP01" fs extract a.bin ex
check ".mpy v6 bytes as the index has them" test "$(head -c 2 ex/lib/umqtt/simple.mpy | od -An -c | tr -d ' ')" = 'M006'
check "the cache holds the three files by SHA-256" test "$(find cache/mip -type f | grep -cE "/[0-9a-f]{64}$")" -eq 3
for f in $(find cache/mip -type f); do
    [ "$(sha256sum "$f" | cut -c1-64)" = "$(basename "$f")" ] || fail "cache names" "$f"
done

# Locked and offline: the same bytes.
expect_ok "second build: index unreachable, from lock + cache" \
    "$ESP01" build proj --firmware fw.bin -o b.bin --index "$DEAD"
check "report says from esp01.lock" grep -q 'from esp01.lock' out
check "byte-identical image" cmp -s a.bin b.bin
cp proj/esp01.lock lock.before
expect_fail "--update with the index unreachable" 1 "127.0.0.1:1" \
    "$ESP01" build proj --firmware fw.bin -o c.bin --index "$DEAD" --update
check "no image after a failed --update" test ! -e c.bin
expect_ok "--update" "$ESP01" build proj --firmware fw.bin -o c.bin --index "$IDX" --update
check "--update resolved from the index" grep -q 'resolved from the index' out
check "--update: same lock" cmp -s lock.before proj/esp01.lock
printf '{"deps": [["umqtt.simple", "latest"], ["logging", "latest"], ["base64", "latest"]]}\n' > proj/package.json
expect_ok "a new dep in package.json" "$ESP01" build proj --firmware fw.bin -o d.bin --index "$IDX"
check "the lock no longer matched: resolved again" grep -q 'does not match package.json' out
check "the new lock has base64" grep -q base64 proj/esp01.lock
printf '{"deps": [["umqtt.simple", "latest"], ["logging", "latest"]]}\n' > proj/package.json
expect_ok "a dep taken out of package.json" "$ESP01" build proj --firmware fw.bin -o d.bin --index "$IDX"
check "resolved again" grep -q 'does not match package.json' out
check "the lock has no base64 any more" sh -c "! grep -q base64 proj/esp01.lock"
rm proj/esp01.lock

# A set that does not fit: the numbers, no image.
mkdir -p full && cp proj/main.py proj/package.json full/ && head -c 380000 /dev/urandom > full/big.bin
expect_fail "packages that do not fit" 1 "more than 98 blocks.*the packages are [0-9]+ of the [0-9]+ bytes, in 3 files" \
    "$ESP01" build full --firmware fw.bin -o x.bin --index "$IDX"
check "no image" test ! -e x.bin

# --no-mpy: sources.
mkdir -p src1 && cp proj/main.py proj/package.json src1/
expect_ok "--no-mpy" "$ESP01" build src1 --firmware fw.bin -o s.bin --index "$IDX" --no-mpy
check "report says sources" grep -q '(sources, resolved' out
expect_ok "extract --no-mpy" "$ESP01" fs extract s.bin sx
check "lib/umqtt/simple.py and lib/logging.py" test -f sx/lib/umqtt/simple.py -a -f sx/lib/logging.py

# --with: a package by name and a third-party package by URL (with a dep).
mkdir -p plain && printf 'print(1)\n' > plain/main.py
expect_ok "--with a URL package and a name" \
    "$ESP01" build plain --firmware fw.bin -o w.bin --index "$IDX" --with "$BASE/3p/package.json,base64"
expect_ok "extract --with" "$ESP01" fs extract w.bin wx
check "third-party file under lib, its dep too" test -f wx/lib/mylib/util.py -a -f wx/lib/logging.mpy -a -f wx/lib/base64.mpy
check "no lock without package.json" test ! -e plain/esp01.lock
expect_ok "--with thingspeak still adds the shipped module" \
    "$ESP01" build plain --firmware fw.bin -o t.bin --with thingspeak,logging --index "$IDX"
check "shipped module and package side by side" sh -c "grep -q 'thingspeak -> /lib (shipped' out && grep -q '^  logging 0.6.2' out"

# Errors: one message, exit 1, no image.
expect_fail "unknown package: did you mean" 1 "did you mean umqtt.simple" \
    "$ESP01" build plain --firmware fw.bin -o x.bin --index "$IDX" --with umqtt.simpel
expect_fail "unknown version: the versions there are" 1 "0\.6\.2" \
    "$ESP01" build plain --firmware fw.bin -o x.bin --index "$IDX" --with logging@9.9.9
expect_fail "a target that leaves lib" 1 "boot.py|\.\." \
    "$ESP01" build plain --firmware fw.bin -o x.bin --with "$BASE/bad/escape.json"
expect_fail "a package json that is not JSON" 1 "notjson.json|JSON" \
    "$ESP01" build plain --firmware fw.bin -o x.bin --with "$BASE/bad/notjson.json"
expect_fail "a huge package json" 1 "huge.json|large|limit|KiB" \
    "$ESP01" build plain --firmware fw.bin -o x.bin --with "$BASE/bad/huge.json"
mkdir -p own/lib && printf 'x = 1\n' > own/lib/logging.mpy && cp plain/main.py own/
printf '{"deps": [["logging", "latest"]]}\n' > own/package.json
expect_fail "a package file over the project's own" 1 "lib/logging.mpy is already in the project" \
    "$ESP01" build own --firmware fw.bin -o x.bin --index "$IDX"
printf '{"deps": [["logging"' > own/package.json
expect_fail "the project's package.json broken" 1 "package.json" \
    "$ESP01" build own --firmware fw.bin -o x.bin --index "$IDX"
head -c 300000 /dev/zero | tr '\0' ' ' > own/package.json
expect_fail "the project's package.json huge" 1 "package.json" \
    "$ESP01" build own --firmware fw.bin -o x.bin --index "$IDX"
check "no image after any of them" test ! -e x.bin

# Nothing cached, the index unreachable: what is missing is named.
mkdir -p fresh && cp proj/main.py proj/package.json fresh/
ESP01_CACHE_DIR=$TMP/cache2 expect_fail "unreachable index, nothing cached" 1 "umqtt.simple" \
    "$ESP01" build fresh --firmware fw.bin -o x.bin --index "$DEAD"
check "no lock, no image" test ! -e fresh/esp01.lock -a ! -e x.bin

# Faults on the wire, each with a fresh cache: nothing cached, no image.
logging_file=/v2/file/54/547a9ff3
fault() { # NAME RULES REGEX
    printf '%s\n' "$2" > www/rules.json
    rm -rf "$TMP/cache3" fresh/esp01.lock
    ESP01_CACHE_DIR=$TMP/cache3 expect_fail "$1" 1 "$3" \
        "$ESP01" build fresh --firmware fw.bin -o x.bin --index "$IDX"
    # Good files of the other package may be cached (by their hash);
    # nothing of logging's, and nothing under a name it does not hash to.
    check "$1: nothing bad cached, no lock, no image" \
        sh -c "[ -z \"\$(find '$TMP/cache3' -type f -name '547a9ff3*' 2>/dev/null)\" ] && [ ! -e fresh/esp01.lock ] && [ ! -e x.bin ]"
    for f in $(find "$TMP/cache3" -type f 2>/dev/null); do
        [ "$(sha256sum "$f" | cut -c1-64)" = "$(basename "$f")" ] || fail "$1: cache entry $f" "its bytes do not hash to its name"
    done
}
fault "a truncated file" "{\"$logging_file\": {\"truncate\": 100}}" "547a9ff3|short|truncat|Content-Length|logging"
fault "a 404 for a file" "{\"$logging_file\": {\"status\": 404}}" "547a9ff3|not found|logging"
fault "a 500 for a package json" '{"/v2/package/6/logging/latest.json": {"status": 500}}' "500"
fault "a stalled file" "{\"$logging_file\": {\"stall_after\": 10}}" "547a9ff3|stall|time|logging"
fault "a redirect loop" '{"/v2/package/6/logging/latest.json": {"redirect": "/v2/package/6/logging/latest.json"}}' \
    "redirect|logging"
rm -f www/rules.json
cp www/v2/file/54/547a9ff3 keep.bin
printf 'wrong bytes\n' > www/v2/file/54/547a9ff3
fault "wrong bytes (hash mismatch)" '{}' "547a9ff3|hash|SHA-256|sha256"
cp keep.bin www/v2/file/54/547a9ff3

# A firmware that freezes logging: the package is skipped with a note.
printf '\0_boot.py\0ntptime.py\0logging.py\0dht.py\0\0' > frozen.bin
"$TOOLS/mkfw" --variant 1M --code frozen.bin fwf.bin >/dev/null
mkdir -p fz && cp plain/main.py fz/ && printf '{"deps": [["logging", "latest"], ["base64", "latest"]]}\n' > fz/package.json
expect_ok "build for a firmware with logging frozen" "$ESP01" build fz --firmware fwf.bin -o f.bin --index "$IDX"
check "note: logging skipped, frozen" grep -q 'logging: skipped, frozen into the firmware' out
expect_ok "extract" "$ESP01" fs extract f.bin fx
check "no lib/logging.mpy, base64 is there" test ! -e fx/lib/logging.mpy -a -f fx/lib/base64.mpy

# esp01 mip list: the lock's packages.
expect_ok "build again (writes the lock)" "$ESP01" build proj --firmware fw.bin -o a.bin --index "$IDX"
expect_ok "mip list PROJECT" "$ESP01" mip list proj
check "mip list: versions, files, bytes" sh -c "grep -Eq '^umqtt.simple 1.8.0: 2 files, [0-9]+ bytes' out && grep -q 'lib/umqtt/simple.mpy' out && grep -Eq '^2 packages, 3 files' out"
expect_fail "mip list without a lock" 1 "esp01.lock" "$ESP01" mip list plain
expect_ok "mip --help" "$ESP01" mip --help
check "help names install, list, --target, --index, --no-mpy" \
    test "$(grep -cE 'install|list|--target|--index|--no-mpy' out)" -ge 5
expect_ok "build --help" "$ESP01" build --help
check "build help: --index, --no-mpy, --update, package.json" \
    test "$(grep -cE -- '--index|--no-mpy|--update|package.json' out)" -ge 4

# esp01 flash PROJECT takes the same packages (from the lock, offline).
. "$SRCDIR/tests/romsim_lib.sh"
if stub_sim_available; then
    "$SIM" --link "$TMP/one.tty" --flash "$TMP/one.flash" --log "$TMP/one.log" \
        --stub --stub-elf "$STUB_ELF" >/dev/null &
    SERVER_PIDS+=($!)
    for _ in $(seq 100); do [ -e one.tty ] && break; sleep 0.05; done
    ESP01_MIP_INDEX=$DEAD expect_ok "flash PROJECT with package.json" \
        "$ESP01" flash proj --firmware fw.bin --port "$TMP/one.tty" --after no-reset
    check "it says which packages, from the lock" \
        grep -q '^Packages:  umqtt.simple 1.8.0, logging 0.6.2 -> /lib (3 files, [0-9]* bytes, from esp01.lock)' err
    "$ESP01" fs cat one.flash lib/logging.mpy > flashed.mpy 2>/dev/null
    check "the board's filesystem has the package's bytes" cmp -s flashed.mpy ex/lib/logging.mpy
else
    skip "flash PROJECT with packages" "$STUB_MISSING"
fi

# The image's files import in MicroPython (WebAssembly): .mpy and .py.
if have_wasm_peer; then
    printf 'import sys\nsys.path.insert(0, "/stubs")\nsys.path.insert(0, "/lib")\nimport umqtt.simple, logging\nprint("imported", umqtt.simple.__file__, logging.__file__)\nprint(umqtt.simple.MQTTClient.__name__)\n' > imp.py
    for v in ex:mpy sx:py; do
        d=${v%%:*} ext=${v##*:}
        ( cd "$SRCDIR/tests/peers" && node mpy_run.mjs --put "$TMP/$d/lib:/lib" --put "$TMP/$d/lib/umqtt:/lib/umqtt" \
            --put "$SRCDIR/tests/device/stubs:/stubs" "$TMP/imp.py" ) > imp.out 2>&1
        check "MicroPython imports umqtt.simple and logging (.$ext)" \
            grep -q "^imported /lib/umqtt/simple.$ext /lib/logging.$ext" imp.out
    done
    if start_wasm wasm --baud 115200 --rx-buffer 256; then
        export ESP01_PORT=$PEER_PORT ESP01_NO_PASTE=1
        expect_ok "mip install umqtt.simple to the board" "$ESP01" mip install umqtt.simple --index "$IDX"
        check "it says what it sent" grep -q '^sent /lib/umqtt/simple.mpy' out
        expect_ok "ls :/lib/umqtt" "$ESP01" ls :/lib/umqtt
        check "simple.mpy is on the board, no temporary" sh -c "grep -qx simple.mpy out && ! grep -q mip out"
        # umqtt.simple imports socket, which this MicroPython lacks: a stub.
        "$ESP01" mkdir :/stubs >/dev/null 2>&1
        "$ESP01" put "$SRCDIR/tests/device/stubs/socket.py" :/stubs/socket.py >/dev/null 2>&1
        expect_ok "the board imports it" "$ESP01" exec 'import sys; sys.path.insert(0, "/stubs"); sys.path.insert(0, "/lib"); import umqtt.simple; print(umqtt.simple.__file__)'
        check "from /lib" grep -q '/lib/umqtt/simple.mpy' out
        # A failure mid-way: logging is sent, then umqtt/ cannot be made
        # (a file has its name): everything sent is taken back.
        "$ESP01" mkdir :/lib2 >/dev/null 2>&1
        printf 'x' > umqtt && "$ESP01" put umqtt :/lib2/umqtt >/dev/null 2>&1
        expect_fail "mip install fails mid-way" 1 "nothing was installed" \
            "$ESP01" mip install logging umqtt.simple --target /lib2 --index "$IDX"
        expect_ok "ls :/lib2 after the failure" "$ESP01" ls :/lib2
        check "nothing changed: only the old file" test "$(cat out)" = "umqtt"
        printf '%s\n' "{\"$logging_file\": {\"status\": 500}}" > www/rules.json
        rm -rf cache/mip
        expect_fail "mip install with a server fault" 1 "500|547a9ff3|logging" \
            "$ESP01" mip install logging --target /lib3 --index "$IDX"
        rm -f www/rules.json
        expect_fail "nothing on the board" 1 "no such" "$ESP01" ls :/lib3
    else
        fail "wasm peer" "MicroPython (wasm) did not answer behind the relay"
    fi
else
    skip "packages on MicroPython (WebAssembly)" "the npm peer is missing (tests/install-deps.sh)"
fi
finish
