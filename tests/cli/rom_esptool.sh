# The ROM loader simulator against an independent client: esptool-js 0.7.0
# (npm) syncs, detects the chip, reads registers and the flash id, and
# writes an image in ROM mode (no stub, no compression) over the pty; the
# simulator's flash must then hold the image.
. "$SRCDIR/tests/lib.sh"
PEERS=$SRCDIR/tests/peers
if [ ! -d "$PEERS/node_modules/esptool-js" ] || ! command -v node >/dev/null; then
    skip "esptool-js ROM session" "run (cd tests/peers && npm ci) and install nodejs"
    finish
fi
cd "$TMP" || exit 1
head -c 70000 /dev/urandom > img.bin
"$TOOLS/romsim" --link "$TMP/sim.tty" --flash "$TMP/sim.flash" --stats "$TMP/sim.stats" >/dev/null &
pid=$!
for _ in $(seq 100); do [ -e sim.tty ] && break; sleep 0.05; done
(cd "$PEERS" && timeout 120 node esptool_rom.mjs "$TMP/sim.tty" "$TMP/img.bin" 0x20000) >out 2>err
rc=$?
kill "$pid"; wait "$pid" 2>/dev/null
check "esptool-js: session completed" test $rc -eq 0
check "esptool-js: detects an ESP8266 in ROM mode" grep -q '"chip":"ESP8266","stub":false' out
check "esptool-js: readReg of the chip magic" grep -q '"magic":4293968129' out
check "esptool-js: chip description from the eFuses" grep -q '"description":"ESP8266EX"' out
check "esptool-js: MAC from the eFuses" grep -q '"mac":"5c:cf:7f:c3:b2:a6"' out
check "esptool-js: flash id through the SPI registers" grep -q '"flash_id":1327343' out
check "esptool-js: ROM-mode write landed in the simulator's flash" \
    cmp -s img.bin <(tail -c +$((0x20000 + 1)) sim.flash | head -c 70000)
finish
