# Our flasher stub (the QEMU build of stub/) against an independent
# client of esptool's stub protocol: esptool-js 0.7.0 on a pty that socat
# bridges to the stub's UART socket, launched as docs/stub.md says.  The
# stub is already running, so esptool-js detects it from SYNC and then
# reads the flash id through the SPI0 registers, erases the chip, writes compressed images at several offsets (a 1 MiB
# one, one with blank sectors, small odd-sized ones), checks each MD5,
# reads each back, changes the baud rate and leaves with RUN_USER_CODE.
# The flash file must then hold exactly the images on erased flash.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stub_lib.sh"
PEERS=$SRCDIR/tests/peers
if [ ! -d "$PEERS/node_modules/esptool-js" ] || ! command -v node >/dev/null; then
    skip "esptool-js against the stub" "run (cd tests/peers && npm ci) and install nodejs"
    finish
fi
if ! stub_qemu_available; then
    skip "esptool-js against the stub" "$STUB_QEMU_MISSING"
    finish
fi

cd "$TMP" || exit 1
head -c 1048576 /dev/urandom > big.src
# 1 MiB that compresses like firmware: runs of text and counters, some noise.
awk 'BEGIN { for (i = 0; i < 30000; i++) printf "line %06d: the value is %d\n", i, (i * 7919) % 100003 }' \
    | head -c 786432 > big.bin
head -c 262144 big.src >> big.bin
# Blank (0xFF) sectors between data sectors.
: > blanks.bin
for i in 0 1 2 3 4 5 6 7; do
    if [ $((i % 2)) -eq 0 ]; then head -c 4096 /dev/urandom >> blanks.bin
    else head -c 4096 /dev/zero | tr '\0' '\377' >> blanks.bin; fi
done
head -c 5001 /dev/urandom > odd.bin
head -c 3 /dev/urandom > tiny.bin

D=$TMP/q
mkdir -p "$D"
head -c 2097152 /dev/urandom > "$D/flash.bin"     # erased by eraseAll first
echo 452 > "$D/clkdiv"                             # 26 MHz crystal at 115200
echo C84015 > "$D/jedec"                           # GigaDevice, 2 MiB
stub_qemu_start "$D" || { fail "stub under QEMU starts" "$(cat "$D/qemu.log" 2>/dev/null)"; finish; }

t0=$(date +%s.%N)
(cd "$PEERS" && timeout 300 node esptool_stub.mjs "$D/tty" 460800 \
    "$TMP/big.bin@0x100000" "$TMP/blanks.bin@0x8000" "$TMP/odd.bin@0x3000" \
    "$TMP/tiny.bin@0xf0000") > out 2> err
rc=$?
t1=$(date +%s.%N)
stub_qemu_wait 30
qrc=$STUB_QEMU_RC
stub_qemu_stop

check "esptool-js: session completed" test $rc -eq 0
[ $rc -eq 0 ] || sed 's/^/    /' out err | head -20
check "esptool-js: SYNC shows a stub already running" grep -q '"sync_saw_stub":true' out
check "esptool-js: says so and uses it" grep -q '"stub":true,"already_running":true' out
check "esptool-js: detected an ESP8266" grep -q '"chip":"ESP8266"' out
# esptool-js 0.7.0 writes the MISO length (23) into SPI_CMD instead of USR1
# on the ESP8266 (tests/cli/rom_esptool.sh), which starts nothing (bit 18
# is clear); its CMD write with bit 18 then runs RDID with the MISO length
# USR1 already holds: 0 on this fresh machine, one bit, so the controller
# shifts in the first byte only (whole bytes, as romsim models it): the
# manufacturer 0xC8 in W0, which esptool-js cleared first.
check "esptool-js: readFlashId through the SPI0 registers gives the manufacturer byte" \
    grep -q '"flash_id":200,' out
check "esptool-js: every image's MD5 verified by the stub" grep -q '"md5_verified":4' out
check "esptool-js: every image read back the same" \
    test "$(grep -o '"same":true' out | wc -l)" -eq 4
check "baud change: the stub set the divider for 460800 (452 * 115200 / 460800)" \
    grep -qx 'clkdiv 113' "$D/uart.ctl"
check "RUN_USER_CODE: the stub returned to the ROM's flash boot" grep -qx 'run' "$D/uart.ctl"
check "QEMU exited cleanly after 'run'" test "$qrc" -eq 0
check "no CPU fault in the stub" sh -c "! grep -q fault '$D/uart.ctl'"

head -c 2097152 /dev/zero | tr '\0' '\377' > expected.bin
put() { dd if="$1" of=expected.bin bs=1 seek=$(($2)) conv=notrunc status=none; }
put big.bin 0x100000
put blanks.bin 0x8000
put odd.bin 0x3000
put tiny.bin 0xf0000
check "flash.bin holds exactly the images on erased flash" cmp -s expected.bin "$D/flash.bin"

# For the record: how fast the session went (QEMU takes bytes as fast as
# socat hands them over; the fake flash takes datasheet time).
ms=$(sed -n 's/.*"write_ms":\([0-9]*\).*/\1/p' out)
[ -n "$ms" ] && echo "# esptool-js wrote $(( $(wc -c < big.bin) + 32768 + 5001 + 3 )) bytes through the stub in $ms ms (session $(echo "$t1 - $t0" | bc) s)"
sed -n 's/.*"wrote_lines":\[\([^]]*\)\].*/\1/p' out | tr ',' '\n' | sed 's/^/# /'
finish
