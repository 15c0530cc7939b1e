# probe and the ROM-loader path of flash / erase (--no-stub) against
# tests/tools/romsim on a pty: the
# simulator's flash file and its own counters are the judges.
. "$SRCDIR/tests/lib.sh"
cd "$TMP" || exit 1
. "$SRCDIR/tests/romsim_lib.sh"

# ---- probe ------------------------------------------------------------
start_sim p1
expect_ok "probe over the ROM loader" "$ESP01" probe --port p1.tty
grep -q '^Chip:        ESP8266EX$' out && grep -q '^MAC:         5c:cf:7f:c3:b2:a6$' out &&
grep -q '^Chip id:     0xc3b2a6$' out && grep -q '^Crystal:     26 MHz$' out
check "probe: chip, MAC, chip id, crystal" test $? -eq 0
check "probe: JEDEC id and vendor" grep -q '^Flash id:    ef4014 (Winbond, type 0x40, capacity 0x14)$' out
check "probe: 1 MiB from capacity 0x14" grep -q '^Flash size:  1 MiB$' out
check "probe: advice for a 1 MiB chip" grep -q '1M build' out
ESP01_PORT=p1.tty "$ESP01" probe >env.out 2>&1
check "probe: ESP01_PORT names the port" grep -q '^Flash size:  1 MiB$' env.out
stop_sim

start_sim p2 --jedec C84016 --chip esp8285
expect_ok "probe: another flash chip" "$ESP01" probe --port p2.tty
check "probe: GigaDevice 4 MiB" grep -q '^Flash size:  4 MiB$' out
check "probe: ESP8285 named, dout required" grep -q 'ESP8285' out
check "probe: ESP8285 flash mode advice" grep -q "needs it" out
stop_sim

start_sim p3 --jedec 5E4013
expect_ok "probe: 512 KiB chip" "$ESP01" probe --port p3.tty
check "probe: 512K build advised" grep -q "512K build" out
stop_sim

for id in 000000 FFFFFF; do
    start_sim "j$id" --jedec "$id" --size 1048576
    expect_fail "probe: JEDEC $id is an error, not a size" 1 "does not answer \\(JEDEC id" \
        "$ESP01" probe --port "j$id.tty"
    check "probe: no size printed for $id" sh -c "! grep -q 'Flash size' '$TMP/out'"
    stop_sim
done
start_sim jbad --jedec EF4025 --size 1048576
expect_fail "probe: unknown capacity code refused" 1 "refusing to guess" "$ESP01" probe --port jbad.tty
stop_sim

# ---- connection problems -------------------------------------------------
start_sim e32 --chip esp32
expect_fail "not an ESP8266" 1 "this is an ESP32 \\(chip magic 0x00f01d83\\)" "$ESP01" probe --port e32.tty
stop_sim
start_sim garb --garbage
expect_fail "garbage instead of replies" 1 "no ROM loader reply" "$ESP01" probe --port garb.tty --wait 1
check "garbage: one line" test "$(wc -l < err)" -eq 1
stop_sim
start_sim boot --boot-text
expect_fail "boot text: the chip ran its firmware" 1 "started its firmware \\(boot mode:\\(3,6\\)\\).*GPIO0" \
    "$ESP01" probe --port boot.tty --before no-reset --wait 1
stop_sim
start_sim off --power-on-after 600000
expect_fail "no reply at all" 1 "no reply from the ROM loader within 1 s" \
    "$ESP01" probe --port off.tty --before no-reset --wait 1
check "no-reset: tells the user what to do" grep -q "Hold GPIO0 low and power-cycle the board" err
stop_sim
start_sim late --power-on-after 1200
expect_ok "no-reset: keeps trying until the chip appears" "$ESP01" probe --port late.tty --before no-reset --wait 10
check "no-reset: instruction printed" grep -q "Hold GPIO0 low" err
stop_sim
expect_fail "missing port" 1 "cannot open 'nonexistent.tty'" "$ESP01" probe --port nonexistent.tty
# No port given and no USB serial port on the (empty) machine.
ESP01_SYSFS_ROOT=$TMP/none ESP01_DEV_ROOT=$TMP/none env -u ESP01_PORT "$ESP01" probe >out 2>err
check "no port given, none found: fails" test $? -eq 1
check "no port given, none found: says how" grep -q "no USB serial port found .*give --port PATH or set ESP01_PORT" err
expect_fail "bad --before" 2 "--before must be" "$ESP01" probe --port x --before sometimes

# ---- flash ---------------------------------------------------------------
"$MKFW" --variant 1M --header 0,4,0 fw.bin
fwlen=$(stat -c %s fw.bin)
start_sim f1
expect_ok "flash a firmware image" "$ESP01" flash --no-stub fw.bin --port f1.tty --after no-reset
stop_sim
check "flash: header mode set to dout" test "$(byte f1.flash 2)" = 03
check "flash: header size set to the chip's 1 MiB" test "$(byte f1.flash 3)" = 20
check "flash: every other byte as in the image" same_range fw.bin 4 f1.flash 4 $((fwlen - 4))
check "flash: bytes 0-1 untouched" same_range fw.bin 0 f1.flash 0 2

start_sim f2
expect_ok "flash: --flash-mode override" \
    "$ESP01" flash --no-stub fw.bin --port f2.tty --flash-mode dio --after no-reset
check "flash: mode dio" test "$(byte f2.flash 2)" = 02
check "flash: size still from the chip" test "$(byte f2.flash 3)" = 20
expect_fail "flash: --flash-size too small for the firmware" 1 "cannot run with 512 KiB of flash" \
    "$ESP01" flash --no-stub fw.bin --port f2.tty --flash-size 512K
stop_sim

# A mostly blank 1 MiB image: data, 0xFF sectors, data at the end of a block.
head -c 20000 /dev/urandom > blank.bin
head -c 900000 /dev/zero | tr '\0' '\377' >> blank.bin
head -c 12288 /dev/urandom >> blank.bin
blen=$(stat -c %s blank.bin)
fill f3.flash 1048576 000
start_sim f3
expect_ok "flash: image with blank sectors" "$ESP01" flash --no-stub blank.bin --offset 0x10000 --port f3.tty --after run
stop_sim
check "flash: image in flash" same_range blank.bin 0 f3.flash 65536 "$blen"
sent=$(stat_of f3 data_bytes)
check "flash: fewer bytes on the wire than the image ($sent < $blen)" test "$sent" -lt $((blen / 10))
check "flash: nothing erased before the offset" all_byte f3.flash 0 65536 000
end=$((65536 + (blen + 4095) / 4096 * 4096))
check "flash: nothing erased after the image (ROM erase bug compensated)" \
    all_byte f3.flash "$end" $((1048576 - end)) 000
check "flash: --after run starts the firmware" test "$(stat_of f3 ran_user_code)" = 1
check "flash: summary line" grep -q "^Wrote $blen bytes at 0x010000" out

"$MKFW" --variant 1M --dump-size 2097152 big.bin
start_sim f4
expect_fail "flash: image larger than the chip" 1 "does not fit in the 1 MiB flash chip" \
    "$ESP01" flash --no-stub big.bin --port f4.tty
check "flash: nothing written when refused" test "$(stat_of f4 data_bytes 2>/dev/null || echo 0)" = 0
stop_sim
"$MKFW" --variant 1M fw1m.bin
start_sim f5 --jedec EF4013
expect_fail "flash: 1M firmware on a 512 KiB chip" 1 "does not fit|cannot run" \
    "$ESP01" flash --no-stub fw1m.bin --port f5.tty
stop_sim
expect_fail "flash: missing image file" 1 "cannot open 'nope.bin'|nope.bin" "$ESP01" flash --no-stub nope.bin --port x

mkdir -p proj && printf 'print("hi")\n' > proj/main.py
start_sim f6
expect_ok "flash: project folder built and written" "$ESP01" flash --no-stub proj --firmware fw1m.bin --port f6.tty --after no-reset
stop_sim
check "flash: project image starts with the firmware" same_range fw1m.bin 4 f6.flash 4 $(( $(stat -c %s fw1m.bin) - 4 ))
check "flash: project header patched for 1 MiB dout" test "$(byte f6.flash 2)$(byte f6.flash 3)" = 0320

# ---- erase ---------------------------------------------------------------
fill er.flash 1048576 000
start_sim er
expect_ok "erase: a region that needs the bug compensation" "$ESP01" erase --no-stub --region 0x23000 0x30000 --port er.tty
expect_ok "erase: a short even region" "$ESP01" erase --no-stub --region 0x80000 0x2000 --port er.tty
stop_sim
check "erase: region erased" all_byte er.flash $((0x23000)) $((0x30000)) 377
check "erase: short region erased" all_byte er.flash $((0x80000)) $((0x2000)) 377
check "erase: before untouched" all_byte er.flash 0 $((0x23000)) 000
check "erase: between untouched" all_byte er.flash $((0x53000)) $((0x80000 - 0x53000)) 000
check "erase: after untouched" all_byte er.flash $((0x82000)) $((0x100000 - 0x82000)) 000
fill er2.flash 1048576 000
start_sim er2
expect_ok "erase: odd sectors inside a block" "$ESP01" erase --no-stub --region 0x3000 0x3000 --port er2.tty
check "erase: odd count erased exactly (two requests, no warning)" sh -c "! grep -q 'erased too' '$TMP/err'"
expect_ok "erase: one sector" "$ESP01" erase --no-stub --region 0x80000 0x1000 --port er2.tty
check "erase: the neighbour a single sector takes is named" grep -q "sector 0x081000 was erased too" err
stop_sim
check "erase: odd region erased" all_byte er2.flash $((0x3000)) $((0x3000)) 377
check "erase: nothing before the odd region" all_byte er2.flash 0 $((0x3000)) 000
check "erase: nothing after the odd region" all_byte er2.flash $((0x6000)) $((0x80000 - 0x6000)) 000
check "erase: one sector plus its named neighbour, nothing else" all_byte er2.flash $((0x82000)) $((0x100000 - 0x82000)) 000
fill er4.flash 1048576 000
start_sim er4
expect_ok "erase: the last sector of the chip" "$ESP01" erase --no-stub --region 0xff000 0x1000 --port er4.tty
stop_sim
check "erase: its neighbour is the sector before, never a wrap to 0x0" grep -q "sector 0x0fe000 was erased too" err
check "erase: sector 0 untouched (no wrap-around)" all_byte er4.flash 0 $((0xfe000)) 000
fill er3.flash 1048576 000
start_sim er3
expect_ok "erase: whole chip" "$ESP01" erase --no-stub --port er3.tty
stop_sim
check "erase: whole chip is blank" all_byte er3.flash 0 1048576 377
expect_fail "erase: unaligned region" 2 "multiples of 4096" "$ESP01" erase --no-stub --region 0x100 0x1000 --port x

# ---- the ROM's own rules (tests/tools/romsim/rom.c, docs/flashing.md) -----
# The ROM refuses a FLASH_BEGIN that is not on a sector boundary even when
# it erases nothing (the 0x8c00 failure of an earlier esp01): a v1.22.1-
# sized firmware has blank 1 KiB blocks inside data sectors.
"$MKFW" --variant 1M --irom-size 0x8C000 fw122.bin
check "rules: the test firmware is v1.22.1's size (610320 bytes)" test "$(stat -c %s fw122.bin)" = 610320
start_sim r1 --log "$TMP/r1.log"
expect_ok "rules: a v1.22.1-sized 1M firmware is accepted by the ROM" \
    "$ESP01" flash --no-stub fw122.bin --port r1.tty --after no-reset
stop_sim
check "rules: the flash holds it" same_range fw122.bin 4 r1.flash 4 $(( $(stat -c %s fw122.bin) - 4 ))
check "rules: the ROM refused nothing" sh -c "! grep -Eq 'refused|error [5-8]|invalid' '$TMP/r1.log'"
aligned_begins() { # LOG: every FLASH_BEGIN offset is a multiple of 4096
    local n=0 o
    for o in $(grep -o 'offset=0x[0-9a-f]*' "$1" | sed 's/offset=//'); do
        [ $((o % 4096)) -eq 0 ] || return 1
        n=$((n + 1))
    done
    [ "$n" -gt 0 ]
}
check "rules: every FLASH_BEGIN on a sector boundary" aligned_begins r1.log
check "rules: sector-sized FLASH_DATA blocks" grep -q 'block_size=4096' r1.log
check "rules: no FLASH_END after writing (the ROM would leave the loader)" \
    sh -c "! grep -q FLASH_END '$TMP/r1.log'"

# A checksum refusal advances the ROM's sequence number but not its write
# address: the block goes again under the next number.
head -c 40000 /dev/urandom > ck.bin
start_sim r2 --bad-checksum-at 3 --log "$TMP/r2.log"
expect_ok "rules: a block refused for its checksum" "$ESP01" flash --no-stub ck.bin --port r2.tty --after no-reset
stop_sim
check "rules: the ROM saw the damage" grep -q 'checksum mismatch (seq advanced' r2.log
check "rules: resent under the next number, flash exact" same_range ck.bin 0 r2.flash 0 40000
check "rules: one block resent, no restart" grep -q '1 blocks resent, 0 restarts' out

# A ROM that only takes 1 KiB blocks (stricter than this one): esp01 falls
# back instead of failing.
start_sim r3 --max-block 1024 --log "$TMP/r3.log"
expect_ok "rules: 1 KiB blocks when sector-sized ones are refused" \
    "$ESP01" flash --no-stub ck.bin --port r3.tty --after no-reset
stop_sim
check "rules: fallback written exactly" same_range ck.bin 0 r3.flash 0 40000
check "rules: fallback used 1 KiB blocks" grep -q 'block_size=1024' r3.log

# The ROM's own flash size limit below the chip's: raised with
# SPI_SET_PARAMS, which the ROM has (command 0x0B).
"$MKFW" --variant 1M --dump-size 1048576 full.bin
head -c 8192 /dev/urandom | dd of=full.bin bs=4096 seek=$((0xC0000 / 4096)) conv=notrunc status=none
start_sim r4 --rom-flash-size 524288 --log "$TMP/r4.log"
expect_ok "rules: the ROM's size limit is raised for a 1 MiB image" \
    "$ESP01" flash --no-stub full.bin --port r4.tty --after no-reset
stop_sim
check "rules: SPI_SET_PARAMS set the real size" grep -q 'flashchip: size 0x100000' r4.log
check "rules: whole chip written" same_range full.bin 4 r4.flash 4 $((1048576 - 4))

# --after run: FLASH_END is only answered "ok" when the last FLASH_BEGIN's
# announced blocks all arrived, so esp01 announces none first.
start_sim r5 --log "$TMP/r5.log"
expect_ok "rules: --after run" "$ESP01" flash --no-stub ck.bin --port r5.tty --after run
stop_sim
check "rules: FLASH_END answered ok" grep -q 'FLASH_END: ok' r5.log
check "rules: the chip left the loader" test "$(stat_of r5 ran_user_code)" = 1

# ---- faults --------------------------------------------------------------
head -c 60000 /dev/urandom > fimg.bin
for seed in 1 2 3; do
    fill "fault$seed.flash" 1048576 000
    start_sim "fault$seed" --seed "$seed" --drop 0.01 --corrupt 0.01 --stall 0.002 --stall-ms 1200 --reset 0.002
    "$ESP01" flash --no-stub fimg.bin --port "fault$seed.tty" --after no-reset >out 2>err
    rc=$?
    stop_sim
    if [ $rc -eq 0 ]; then
        check "faults seed $seed: done means the flash holds the image" same_range fimg.bin 0 "fault$seed.flash" 0 60000
    else
        check "faults seed $seed: the error names an offset" grep -Eq "^esp01: .* at 0x[0-9a-f]{6}" err
    fi
done
finish
