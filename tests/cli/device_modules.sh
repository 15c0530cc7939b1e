#!/usr/bin/env bash
# On-device modules (device/*.py) and the ThingSpeak logger example, run on
# real MicroPython 1.27 (WebAssembly build from npm) under node, with
# stand-ins for the ESP8266 network/socket/machine/dht modules and a
# static check for what the ESP8266 port lacks.
. "$(dirname "$0")/../lib.sh"
cd "$SRCDIR"

PEER=tests/peers/node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs
SCAN=tests/device/esp8266_scan.mjs
if ! command -v node >/dev/null; then
    skip "device modules" "node is not installed (tests/install-deps.sh)"; finish
fi

# --- static check: the scanner itself, on a file written to trip it
cat >"$TMP/bad.py" <<'PY'
# setattr(x) and s.partition(',') here are only a comment
"""A docstring naming str.splitlines() and compile()
over two lines: hashlib.md5"""
s = 'x.center(3) # not a comment either'
r = r'\' .ljust(2)'
a, _, b = line.partition('=')
setattr(obj, 'k', 1)
from binascii import crc32
t = (1 +
     math.isclose(a, b))
u = f"{a}"
def center(x):
    return x
y = b'''
.rjust(1)
''' + "\\" + x.rjust(1)
import math, random
x = math.inf + math.sqrt(2)
from math import (gamma,
    floor)
r = random.randint(1, 6) + random.getrandbits(3)
z = 2j + 1e3 + 0x1F
print(__file__, obj.inf)
PY
cat >"$TMP/bad.want" <<WANT
$TMP/bad.py:6: str.partition is missing on the ESP8266 port
$TMP/bad.py:7: setattr() is missing on the ESP8266 port
$TMP/bad.py:8: binascii.crc32 is missing on the ESP8266 port
$TMP/bad.py:10: math.isclose is missing on the ESP8266 port
$TMP/bad.py:11: f-string: not in every ESP8266 build from v1.19; use % formatting
$TMP/bad.py:16: str.rjust is missing on the ESP8266 port
$TMP/bad.py:18: math.inf is missing on the ESP8266 port
$TMP/bad.py:19: math.gamma is missing on the ESP8266 port
$TMP/bad.py:21: random.randint is missing on the ESP8266 port
$TMP/bad.py:22: complex numbers are missing on the ESP8266 port
$TMP/bad.py:23: __file__ is missing on the ESP8266 port
WANT
node "$SCAN" "$TMP/bad.py" >"$TMP/bad.got"; rc=$?
if [ $rc -eq 1 ] && cmp -s "$TMP/bad.want" "$TMP/bad.got"; then
    ok "scanner: finds code uses, ignores comments and strings"
else
    fail "scanner: finds code uses, ignores comments and strings" \
        "exit $rc; $(diff "$TMP/bad.want" "$TMP/bad.got" | head -5)"
fi
head -c 7000 /dev/zero | tr '\0' '\n' >"$TMP/big.py"
node "$SCAN" "$TMP/big.py" >"$TMP/big.got"; rc=$?
check "scanner: a 7000-byte source is refused as too big" \
    test $rc -eq 1 -a "$(grep -c '7000 bytes of source, over 6144' "$TMP/big.got")" -eq 1
echo "x = 'unterminated" >"$TMP/broken.py"
node "$SCAN" "$TMP/broken.py" >"$TMP/broken.got"; rc=$?
check "scanner: untokenizable source fails" test $rc -eq 1 -a -s "$TMP/broken.got"

check "device modules exist" test -f device/wifitools.py -a -f device/thingspeak.py
for f in device/*.py examples/thingspeak-logger/main.py; do
    expect_ok "$f: nothing the ESP8266 port lacks, under 6 KB" node "$SCAN" "$f"
done

# --- the modules on real MicroPython
if [ ! -f "$PEER" ]; then
    skip "device modules on MicroPython" "npm peer missing: run (cd tests/peers && npm ci)"; finish
fi
# Real framings to replay: what Node's HTTP server sends.
if ! node tests/peers/http_replies.mjs "$TMP/replies" 2>"$TMP/replies.err"; then
    fail "record replies from Node's HTTP server" "$(head -c 300 "$TMP/replies.err")"
fi
for t in test_thingspeak test_wifitools test_logger; do
    out=$(node tests/peers/mpy_run.mjs --put device:/lib --put tests/device/stubs:/stubs \
          --put examples/thingspeak-logger:/app --put "$TMP/replies:/replies" \
          "tests/device/$t.py" 2>&1)
    rc=$?
    # Results, and the measurements ('# ' lines); the logger's own log is indented.
    echo "$out" | grep -E '^(ok|FAIL|SKIP|#) ' | grep -v '^#   '
    if echo "$out" | grep -q '^FAIL - '; then
        T_FAILED=1
    elif [ $rc -ne 0 ]; then
        fail "$t" "exit $rc: $(echo "$out" | tail -3)"
    elif ! echo "$out" | grep -q '^ok - '; then
        fail "$t" "no results: $(echo "$out" | tail -3)"
    fi
done
finish
