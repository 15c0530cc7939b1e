#!/bin/bash
# tests/win32/wine_smoke.sh - the Win32 backends under 64-bit Wine, through
# wincom_probe (README.md): a pty as COM7 that answers, a local HTTP
# server, the digests of "abc".  Not part of `make test` (Wine takes
# seconds to start, and is not always installed).  Prints "ok - " and
# "FAIL - " lines like the other tests.
#   make build/win64/wincom_probe.exe && tests/win32/wine_smoke.sh
set -u
cd "$(dirname "$0")/../.."
PROBE=${PROBE:-build/win64/wincom_probe.exe}
WINE=${WINE:-/usr/lib/wine/wine64}
[ -x "$WINE" ] || { echo "SKIP - wine: $WINE is not installed"; exit 0; }
[ -f "$PROBE" ] || { echo "FAIL - probe: $PROBE not built"; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/esp01-wine.XXXXXX")
export WINEPREFIX=$TMP/prefix WINEDEBUG=-all
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
failed=0
ok() { echo "ok - $1"; }
fail() { echo "FAIL - $1: $2"; failed=1; }
# has NAME REGEX: the last probe output matches
has() { if grep -Eq -- "$2" "$TMP/out"; then ok "$1"; else fail "$1" "$(head -c 300 "$TMP/out")"; fi; }
# Wine writes the console with CRLF.
probe() { timeout 120 "$WINE" "$PROBE" "$@" 2>&1 | tr -d '\r' >"$TMP/out"; }

mkdir -p "$WINEPREFIX"
probe hash abc                      # also creates the prefix
has "md5 from BCrypt" '^md5    900150983cd24fb0d6963f7d28e17f72$'
has "sha256 from BCrypt" '^sha256 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad$'
has "sha1 from BCrypt" '^sha1   a9993e364706816aba3e25717850c26c9cd0d89d$'

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

# A pty that answers "pong:" and what it got, 200 ms later.
python3 - "$WINEPREFIX/dosdevices/com7" >"$TMP/pty.log" 2>&1 <<'PY' &
import os, pty, tty, sys, time, select
m, s = pty.openpty()
tty.setraw(s)
os.symlink(os.ttyname(s), sys.argv[1])
print("ready", flush=True)
end = time.time() + 60
while time.time() < end:
    if select.select([m], [], [], 0.1)[0]:
        d = os.read(m, 4096)
        print("got %r" % d, flush=True)
        time.sleep(0.2)
        os.write(m, b"pong:" + d)
PY
pids+=($!)
for _ in $(seq 50); do grep -q ready "$TMP/pty.log" && break; sleep 0.1; done
probe port COM7 hello-wine
has "COM7 opens" '^open: ok, 115200 baud$'
has "74880 baud is taken" '^74880 baud: 0 $'
has "the write returns" '^write 10 bytes: 0 $'
grep -q "got b'hello-wine'" "$TMP/pty.log" && ok "the bytes arrive on the pty" ||
    fail "the bytes arrive on the pty" "$(cat "$TMP/pty.log")"
has "the reply is read" "^read after [0-9]+ ms: 15 bytes 'pong:hello-wine'$"
ms=$(sed -n 's/^read after \([0-9]*\) ms.*/\1/p' "$TMP/out")
[ -n "$ms" ] && [ "$ms" -lt 400 ] && ok "the reply is seen within a slice ($ms ms)" ||
    fail "the reply is seen within a slice" "${ms:-?} ms"
has "an empty read ends at its deadline" "^empty read, 500 ms deadline: -10 'no reply from 'COM7'' after (49[0-9]|5[0-4][0-9]) ms$"
probe open com7
has "lower case com7" '^open com7: 0 ok$'
probe open '\\.\COM7'
has "\\\\.\\COM7" '^open \\\\\.\\COM7: 0 ok$'
probe open COM12
has "a missing port" "^open COM12: -8 cannot open 'COM12': no such port$"
probe list
has "SERIALCOMM lists COM1" '^  COM1 path=COM1 '

port=$((20000 + RANDOM % 20000))
python3 - "$port" >"$TMP/http.log" 2>&1 <<'PY' &
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def reply(self, code, body, length=None, **hdr):
        self.send_response(code)
        for k, v in hdr.items(): self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers(); self.wfile.write(body); self.wfile.flush()
    def do_GET(self):
        p = self.path
        if p == "/ok": self.reply(200, b"x" * 100000)
        elif p.startswith("/r"):
            n = int(p[2:]); self.reply(302, b"", Location="/ok" if n == 0 else "/r%d" % (n - 1))
        elif p == "/short": self.reply(200, b"y" * 1000, 5000); self.close_connection = True
        elif p == "/big": self.reply(200, b"z" * (2 << 20))
        elif p == "/stall": self.reply(200, b"ab", 10); time.sleep(8)
        else: self.reply(404, b"no\n")
class T(http.server.ThreadingHTTPServer): daemon_threads = True
T(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
pids+=($!)
sleep 1
u=http://127.0.0.1:$port
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
