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

# esptool-js uploads its own ESP8266 stub before every flash: text to IRAM
# and data to 0x3FFFAE6C, inside the ROM loader's DRAM, which works on real
# chips (esp8266-facts 5b).  romsim must take every block as the ROM does,
# then say it cannot run that code, not claim the chip crashed.
head -c 1048576 /dev/zero > up.flash
"$TOOLS/romsim" --link "$TMP/up.tty" --flash "$TMP/up.flash" --log "$TMP/up.log" >/dev/null 2>up.err &
pid=$!
for _ in $(seq 100); do [ -e up.tty ] && break; sleep 0.05; done
(cd "$PEERS" && timeout 120 node esptool_upload.mjs "$TMP/up.tty") >upload.out 2>upload.err
rc=$?
kill "$pid"; wait "$pid" 2>/dev/null
check "esptool-js upload: session completed" test $rc -eq 0
check "esptool-js upload: two segments, one in DRAM under 0x3FFFC000" \
    grep -q '"segments":\[{"addr":1074840832,"len":11456},{"addr":1073720940,"len":920}\]' upload.out
# Every MEM_BEGIN and every MEM_DATA block of esptool-js's stub accepted,
# at the addresses esptool-js's own stub json gives.
# (read from a file: a pipe would run the checks in a subshell)
node -e 'const o=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
  for (const s of o.segments) console.log(s.addr.toString(16), s.len, o.ram_block)' upload.out >segs
check "esptool-js upload: its segments listed" test "$(wc -l < segs)" -eq 2
while read -r addr len block; do
    blocks=$(( (len + block - 1) / block ))
    check "romsim: MEM_BEGIN of $len bytes at 0x$addr accepted" \
        grep -q "MEM_BEGIN size $len blocks $blocks block size $block at 0x0*$addr\$" up.log
    seq=0; at=$((0x$addr)); left=$len
    while [ $left -gt 0 ]; do
        n=$(( left < block ? left : block ))
        check "romsim: MEM_DATA seq $seq ($n bytes at $(printf 0x%08x $at)) accepted" \
            grep -q "MEM_DATA seq $seq: $n bytes at $(printf 0x%08x $at)\$" up.log
        seq=$((seq + 1)); at=$((at + n)); left=$((left - n))
    done
done <segs
check "romsim: every MEM_DATA of the upload accepted" \
    test "$(grep -c 'MEM_DATA seq' up.log)" -eq 3
check "romsim: MEM_END says it cannot run foreign code" \
    grep -q "MEM_END entry 0x4010c504: the uploaded code is not esp01's stub.*romsim cannot run foreign code" up.log
check "romsim: says so on stderr too" grep -q 'romsim cannot run foreign code' up.err
check "romsim: no crash claimed" sh -c "! grep -qi 'crash' '$TMP/up.log'"
check "esptool-js: its stub never answered (no OHAI)" grep -q '"stub_running":false' upload.out
check "esptool-js: no crash reported to it" sh -c "! grep -qi 'crash' '$TMP/upload.out'"

# With --stub, romsim runs an upload equal to esp01's stub under QEMU;
# esptool-js's stub is not that, and romsim must say so the same way.
STUB_ELF=$BUILD_DIR/stub/stub-qemu.elf
if command -v qemu-system-xtensa >/dev/null && [ -f "$STUB_ELF" ]; then
    head -c 1048576 /dev/zero > sq.flash
    "$TOOLS/romsim" --link "$TMP/sq.tty" --flash "$TMP/sq.flash" --log "$TMP/sq.log" \
        --stub --stub-elf "$STUB_ELF" >/dev/null 2>sq.err &
    pid=$!
    for _ in $(seq 100); do [ -e sq.tty ] && break; sleep 0.05; done
    (cd "$PEERS" && timeout 120 node esptool_upload.mjs "$TMP/sq.tty") >sq.out 2>&1
    kill "$pid"; wait "$pid" 2>/dev/null
    check "romsim --stub: esptool-js's upload taken whole" test "$(grep -c 'MEM_DATA seq' sq.log)" -eq 3
    check "romsim --stub: its stub is foreign, and why" \
        grep -q "MEM_END entry 0x4010c504: the uploaded code is not esp01's stub (entry 0x4010c504, the stub's is 0x[0-9a-f]*); romsim cannot run foreign code" sq.log
    check "romsim --stub: QEMU never given the line" sh -c "! grep -q 'stub: running under QEMU' '$TMP/sq.log'"
    check "esptool-js --stub: no OHAI, no crash" \
        sh -c "grep -q '\"stub_running\":false' '$TMP/sq.out' && ! grep -qi crash '$TMP/sq.out' '$TMP/sq.log'"
else
    skip "esptool-js's stub against romsim --stub" "no qemu-system-xtensa or $STUB_ELF"
fi

# A MEM_DATA into ROM data (0x3FFFC000 up) still crashes the chip.
head -c 1048576 /dev/zero > rd.flash
"$TOOLS/romsim" --link "$TMP/rd.tty" --flash "$TMP/rd.flash" --log "$TMP/rd.log" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do [ -e rd.tty ] && break; sleep 0.05; done
(cd "$PEERS" && timeout 60 node esptool_upload.mjs "$TMP/rd.tty" 0x3fffbe00) >rd.out 2>rd.err
kill "$pid"; wait "$pid" 2>/dev/null
check "romsim: data moved to 0x3FFFBE00 runs into ROM data at 0x3FFFC000" \
    grep -q "MEM_DATA to 0x3fffbe00+920 overwrites the ROM's own memory" rd.log
check "esptool-js: that upload fails" grep -q '"stub_running":false' rd.out
finish
