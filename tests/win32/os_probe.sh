#!/bin/bash
# tests/win32/os_probe.sh - os.h's Windows processes, Ctrl-C, terminal and
# TCP (src/os/win32/proc.c, ctrlc.c, term.c, tcp.c) under 64-bit Wine,
# through os_probe.exe: stdin and stdout are pipes, a node server on
# 127.0.0.1 answers "pong:" and what it got, port 1 has no listener.
# Not part of `make test` (Wine takes seconds to start).  Prints the
# probe's "ok - " / "FAIL - " lines.
#   make build/win64/os_probe.exe && tests/win32/os_probe.sh
set -u
cd "$(dirname "$0")/../.."
PROBE=${PROBE:-build/win64/os_probe.exe}
WINE=${WINE:-/usr/lib/wine/wine64}
[ -x "$WINE" ] || { echo "SKIP - wine: $WINE is not installed"; exit 0; }
command -v node >/dev/null || { echo "SKIP - node is not installed"; exit 0; }
[ -f "$PROBE" ] || { echo "FAIL - probe: $PROBE not built"; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/esp01-wine.XXXXXX")
export WINEPREFIX=$TMP/prefix WINEDEBUG=-all
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$TMP"' EXIT

node -e '
const net = require("net");
const srv = net.createServer(s => {
  s.on("data", d => s.write("pong:" + d));
  s.on("end", () => s.end());
  s.on("error", () => {});
});
srv.listen(0, "127.0.0.1", () => console.log(srv.address().port));
setTimeout(() => process.exit(0), 180000);
' >"$TMP/port" &
server=$!
for _ in $(seq 50); do [ -s "$TMP/port" ] && break; sleep 0.1; done
port=$(head -1 "$TMP/port")
[ -n "$port" ] || { echo "FAIL - echo server: it did not start"; exit 1; }

mkdir -p "$WINEPREFIX"
# Wine writes the console with CRLF; the probe's own lines end in LF.
{ printf 'typed\n'; sleep 12; } | timeout 150 "$WINE" "$PROBE" run "$port" 1 2>&1 | tr -d '\r' | tee "$TMP/out"
# A pty makes Wine give the program a console; the results go to a file
# because the console's output is full of cursor movements.
if command -v script >/dev/null; then
    timeout 120 script -qc "stty cols 93; '$WINE' '$PROBE' tty 93 'Z:$TMP/tty.out'" /dev/null \
        </dev/null >/dev/null 2>&1
    if [ -s "$TMP/tty.out" ]; then tr -d '\r' <"$TMP/tty.out" | tee "$TMP/tty"
    else echo "FAIL - console: the probe wrote no results"; fi
else
    echo "0 failed" >"$TMP/tty"; echo "SKIP - console: script(1) is not installed"
fi
grep -q '^0 failed$' "$TMP/out" && grep -q '^0 failed$' "$TMP/tty"
