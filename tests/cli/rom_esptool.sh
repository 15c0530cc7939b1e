# The ROM loader simulator against an independent client: esptool-js 0.7.0
# (npm) syncs, detects the chip, reads registers and the flash id over the
# pty.  Its ROM-mode FLASH_BEGIN carries 20 bytes and a 16 KiB block size,
# which the ESP8266 ROM refuses with error 5 (bootrom.s,
# FlashDwnLdStartMsgProc; esptool's loader.py sends 16 bytes to the ESP8266
# ROM for that reason), so romsim must refuse it too and leave the flash
# alone: esptool-js writes an ESP8266 only through a stub.
. "$SRCDIR/tests/lib.sh"
PEERS=$SRCDIR/tests/peers
if [ ! -d "$PEERS/node_modules/esptool-js" ] || ! command -v node >/dev/null; then
    skip "esptool-js ROM session" "run (cd tests/peers && npm ci) and install nodejs"
    finish
fi
cd "$TMP" || exit 1
head -c 70000 /dev/urandom > img.bin
head -c 1048576 /dev/zero > sim.flash
"$TOOLS/romsim" --link "$TMP/sim.tty" --flash "$TMP/sim.flash" --stats "$TMP/sim.stats" --log "$TMP/sim.log" >/dev/null &
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
# esptool-js 0.7.0 gives the ESP8266 SPI_MOSI_DLEN_OFFS = 0 instead of "none",
# so it writes the MISO length into SPI_CMD rather than USR1: the flash
# then shifts in only as many bits as USR1 already asked for (romsim: none
# set, one byte).  The manufacturer byte still shows the path works.
check "esptool-js: flash id through the SPI registers (manufacturer)" \
    sh -c "grep -o '\"flash_id\":[0-9]*' '$TMP/out' | grep -Eq ':(239|1327343)\$'"
check "esptool-js: its 20-byte FLASH_BEGIN is refused as the ROM does" \
    grep -q '"flash_begin_error":"[^"]*status 1,5' out
check "esptool-js: so is its ROM-mode write" grep -q '"written_error":"[^"]*status 1,5' out
check "romsim: saw why" grep -q 'FLASH_BEGIN refused: body 20 bytes, block size 16384' sim.log
check "esptool-js: nothing written" sh -c "! tr -d '\\000' < '$TMP/sim.flash' | grep -q ."
finish
