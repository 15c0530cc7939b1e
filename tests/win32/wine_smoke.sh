#!/usr/bin/env bash
# tests/win32/wine_smoke.sh - the Win32 backends under 64-bit Wine, through
# wincom_probe (README.md), run by tests/win32/esp01-wine as the tier runs
# esp01.exe: a pty from socat that answers as a COM port (the wrapper's
# own COM mapping), a local HTTP server in Node, the digests of "abc".
# Part of tests/win32/tier.sh; alone:
#   make build/win64/wincom_probe.exe && tests/win32/wine_smoke.sh
# Prints "ok - " and "FAIL - " lines like the other tests.
set -u
cd "$(dirname "$0")/../.."
PROBE=${PROBE:-$PWD/build/win64/wincom_probe.exe}
WINE=${WINE:-/usr/lib/wine/wine64}
WRAP=$PWD/tests/win32/esp01-wine
[ -x "$WINE" ] || { echo "SKIP - wine: $WINE is not installed"; exit 0; }
[ -f "$PROBE" ] || { echo "FAIL - probe: $PROBE not built"; exit 1; }
for t in socat node; do
    command -v $t >/dev/null || { echo "SKIP - wine smoke: no $t (tests/install-deps.sh)"; exit 0; }
done
TMP=$(mktemp -d "${TMPDIR:-/tmp}/esp01-wine.XXXXXX")
# The tier's prefix when run from tier.sh, else one of our own.
[ -n "${WINEPREFIX:-}" ] || { export WINEPREFIX=$TMP/prefix; own_prefix=1; }
export WINEDEBUG=-all
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    [ -n "${own_prefix:-}" ] && WINEPREFIX=$TMP/prefix "${WINE%/*}/wineserver" -k 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
failed=0
ok() { echo "ok - $1"; }
fail() { echo "FAIL - $1: $2"; failed=1; }
# has NAME REGEX: the last probe output matches
has() { if grep -Eq -- "$2" "$TMP/out"; then ok "$1"; else fail "$1" "$(head -c 300 "$TMP/out")"; fi; }
# The probe prints through MinGW's stdio in text mode: CRLF, dropped here
# (esp01.exe itself must print LF; tier.sh checks that).
probe() {
    ESP01_EXE=$PROBE timeout 120 "$WRAP" "$@" >"$TMP/raw" 2>&1
    PROBE_RC=$?
    tr -d '\r' <"$TMP/raw" >"$TMP/out"
}

probe hash abc                      # also initialises a new prefix
has "md5 from BCrypt" '^md5    900150983cd24fb0d6963f7d28e17f72$'
has "sha256 from BCrypt" '^sha256 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad$'
has "sha1 from BCrypt" '^sha1   a9993e364706816aba3e25717850c26c9cd0d89d$'
check_rc() { if [ "$PROBE_RC" -eq "$2" ]; then ok "$1"; else fail "$1" "exit $PROBE_RC, wanted $2"; fi; }
check_rc "exit 0 passes through the wrapper" 0
probe
check_rc "exit 2 (usage) passes through the wrapper" 2
has "stderr reaches the caller" '^usage: wincom_probe '

# Files, folders and held folders (os.h) in a folder holding a Unix
# symbolic link, which Wine shows as a reparse point.
mkdir -p "$TMP/ft/elsewhere" && ln -s "$TMP/ft/elsewhere" "$TMP/ft/lnk"
probe files "Z:$TMP/ft"
has "a UTF-8 folder name" '^mkdir utf8: 0 ok$'
[ -d "$TMP/ft/Büro/Sensor" ] && ok "UTF-8 and '\\' in paths reach the disk" ||
    fail "UTF-8 and '\\' in paths reach the disk" "$(ls "$TMP/ft")"
has "mkdir of what is there" '^mkdir again: -9 '
has "temporary file put in place" '^replace: 0 ok$'
has "stat" '^stat: 0 type 0 size 5$'
has "read in whole" "^map: 0 'hello'$"
has "a folder is not read as a file" '^map a folder: -6 is a directory$'
has "a missing file is -8" '^open a missing file: -8 '
has "listing in UTF-8" '^listed: Sensor$'
has "full path with '/'" "^realpath: 1 Z:$TMP/ft/Büro/Sensor/a.bin$"
has "remove" '^is_file after remove: 0$'
has "paths over MAX_PATH" '^long is_file: 1$'
has "held: new file" '^write new: 0 ok$'
has "held: no overwrite unless asked" '^write new again: -9 '
has "held: replace" '^write replace: 0 ok$'
[ "$(cat "$TMP/ft/new/f.txt")" = three ] && ok "held: the replaced file holds the new bytes" ||
    fail "held: the replaced file holds the new bytes" "$(cat "$TMP/ft/new/f.txt")"
has "held: device names refused" '^name NUL: -6 '
has "held: COM1.txt refused" '^name com1.txt: -6 '
has "held: streams refused" '^name a:b: -6 '
has "held: a trailing dot refused" '^name dot: -6 '
has "held: a link is reported" '^dirh_stat lnk: 0 type 2$'
has "held: a link is not entered" '^dirh_sub lnk: -6 a link or not a directory$'
[ -z "$(ls -A "$TMP/ft/elsewhere")" ] && ok "nothing written through the link" ||
    fail "nothing written through the link" "$(ls -A "$TMP/ft/elsewhere")"
has "cache in LOCALAPPDATA" '^cache_dir: 0 C:/users/[^/]+/AppData/Local/esp01$'
has "own path with '/'" '^self_exe: 1 Z:/.*/wincom_probe.exe$'
has "sleep and clock agree" '^slept: (19[0-9]|2[0-4][0-9]) ms$'
echo old >"$TMP/ft/tgt" && echo new >"$TMP/ft/src"
timeout 60 "$WINE" "$PROBE" hold "Z:$TMP/ft/tgt" 6000 >"$TMP/hold.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "hold: ok" "$TMP/hold.out" && break; sleep 0.1; done
probe replace "Z:$TMP/ft/src" "Z:$TMP/ft/tgt"
has "replacing a file another program holds" '^replace: -1 it is in use by another program$'
[ "$(cat "$TMP/ft/tgt")" = old ] && ok "the held file is left as it was" ||
    fail "the held file is left as it was" "$(cat "$TMP/ft/tgt")"

# A pty that answers "pong:" and what it got, 200 ms later (socat makes the
# pty, Node answers on the other side and logs what it got on stderr).
socat pty,raw,echo=0,link="$TMP/com.tty" \
    EXEC:"node -e \"process.stdin.on('data', d => { console.error('got ' + JSON.stringify(d.toString())); setTimeout(() => process.stdout.write('pong:' + d), 200); }); setTimeout(() => process.exit(0), 120000)\"" \
    2>"$TMP/pty.log" &
pids+=($!)
for _ in $(seq 100); do [ -e "$TMP/com.tty" ] && break; sleep 0.05; done
COM=$("$WRAP" --wine-com "$TMP/com.tty")
[[ $COM =~ ^COM[0-9]+$ ]] && ok "the pty is mapped to $COM" || fail "the pty is mapped to a COM port" "got '$COM'"
again=$("$WRAP" --wine-com "$TMP/com.tty")
[ "$again" = "$COM" ] && ok "the same pty keeps its COM number" || fail "the same pty keeps its COM number" "$again, was $COM"
dev=$(readlink -f "$TMP/com.tty")
[ "$(readlink "$WINEPREFIX/dosdevices/${COM,,}")" = "$dev" ] && ok "dosdevices/${COM,,} -> $dev" ||
    fail "dosdevices link" "$(ls -l "$WINEPREFIX/dosdevices/")"
same=$("$WRAP" --wine-com "$TMP/not-a-port")
[ "$same" = "$TMP/not-a-port" ] && ok "a path that is no device passes unchanged" || fail "a path that is no device" "$same"

probe port "$COM" hello-wine
has "$COM opens" '^open: ok, 115200 baud$'
has "74880 baud is taken" '^74880 baud: 0 $'
has "the write returns" '^write 10 bytes: 0 $'
grep -q 'got "hello-wine"' "$TMP/pty.log" && ok "the bytes arrive on the pty" ||
    fail "the bytes arrive on the pty" "$(cat "$TMP/pty.log")"
has "the reply is read" "^read after [0-9]+ ms: 15 bytes 'pong:hello-wine'$"
ms=$(sed -n 's/^read after \([0-9]*\) ms.*/\1/p' "$TMP/out")
[ -n "$ms" ] && [ "$ms" -lt 400 ] && ok "the reply is seen within a slice ($ms ms)" ||
    fail "the reply is seen within a slice" "${ms:-?} ms"
has "an empty read ends at its deadline" "^empty read, 500 ms deadline: -10 'no reply from '$COM'' after (49[0-9]|5[0-4][0-9]) ms$"
probe open "${COM,,}"
has "lower case ${COM,,}" "^open ${COM,,}: 0 ok$"
probe open "\\\\.\\$COM"
has "\\\\.\\$COM" "^open \\\\\\\\\.\\\\$COM: 0 ok$"
probe open COM251
has "a missing port" "^open COM251: -8 cannot open 'COM251': no such port$"
# A Linux absolute path reaches the same file through Z: (it opens, and is
# then refused as no serial port); a missing one is not found.
echo x >"$TMP/plain.file"
probe open "$TMP/plain.file"
has "a Linux absolute path opens through Z:" "^open $TMP/plain.file: -[0-9]+ '$TMP/plain.file' is not a serial port"
probe open "$TMP/missing.file"
has "a missing Linux path is not found" "^open $TMP/missing.file: -8 .*no such port$"
probe list
has "SERIALCOMM lists COM1" '^  COM1 path=COM1 '

# The HTTP cases: a Node server on a port of its own choosing.
node -e '
const http = require("http"), fs = require("fs");
const reply = (res, code, body, hdr = {}, length = body.length) => {
  res.writeHead(code, Object.assign({"Content-Length": length}, hdr)); res.end(body); };
const s = http.createServer((req, res) => {
  const p = req.url;
  if (p === "/ok") reply(res, 200, Buffer.alloc(100000, "x"));
  else if (p.startsWith("/r")) { const n = +p.slice(2);
    reply(res, 302, "", {Location: n === 0 ? "/ok" : "/r" + (n - 1)}); }
  else if (p === "/short") { res.writeHead(200, {"Content-Length": 5000});
    res.write(Buffer.alloc(1000, "y")); setTimeout(() => res.socket.destroy(), 100); }
  else if (p === "/big") reply(res, 200, Buffer.alloc(2 << 20, "z"));
  else if (p === "/stall") { res.writeHead(200, {"Content-Length": 10}); res.write("ab");
    setTimeout(() => res.socket.destroy(), 8000); }
  else reply(res, 404, "no\n");
});
s.listen(0, "127.0.0.1", () => fs.writeFileSync(process.argv[1], String(s.address().port)));
setTimeout(() => process.exit(0), 300000);
' "$TMP/http.port" 2>"$TMP/http.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$TMP/http.port" ] && break; sleep 0.05; done
u=http://127.0.0.1:$(cat "$TMP/http.port")
probe get $u/ok
has "GET" "^get: status 200, 100000 bytes, content-length 100000, 0 redirects"
probe get $u/r3
has "4 redirects followed" "^get: status 200, 100000 bytes, content-length 100000, 4 redirects"
probe get $u/r9
has "more than 8 redirects" "^get: -11 .*redirected more than 8 times"
probe get $u/missing
has "a 404 is a reply" "^get: status 404, 3 bytes"
probe get $u/short
has "a truncated body" "^get: -11 .*closed the connection after 1000 bytes.*\(truncated\)$"
probe get $u/big
has "max_bytes" "^get: -13 .*: more than 1048576 bytes, refused$"
probe get $u/stall
has "a stall" "^get: -10 .* stalled: no data for 5 s \(2 bytes received\)$"
probe get http://127.0.0.1:1/
has "nothing listening" "^get: -1 cannot reach http://127.0.0.1:1/: "
probe get ftp://127.0.0.1/x
has "ftp is refused" "^get: -11 ftp://127.0.0.1/x: only http and https are supported$"
exit $failed
