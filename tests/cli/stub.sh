# flash / read / verify / erase through esp01's flasher stub: romsim plays
# the ROM loader and, once the ROM starts an upload equal to the stub
# libesp01 ships, hands the line to the QEMU build of the same stub source
# on the same flash file.  The line is paced at the chip's baud rate and
# the fake flash takes datasheet time, so timeouts mean something.
. "$SRCDIR/tests/lib.sh"
cd "$TMP" || exit 1
. "$SRCDIR/tests/romsim_lib.sh"
if ! stub_sim_available; then
    skip "the flasher stub under QEMU" "$STUB_MISSING"
    finish
fi

# A 1M firmware and a small project, built the way a user would.
"$MKFW" --variant 1M fw.bin
head -c 40000 /dev/urandom > small.bin
mkdir -p proj/lib
printf 'import gc\ngc.collect()\n' > proj/boot.py
printf 'print("hello")\n' > proj/main.py
head -c 3000 /dev/urandom | base64 > proj/lib/data.py

# ---- flash ---------------------------------------------------------------
start_stub_sim w1
expect_ok "flash: a firmware image through the stub" \
    "$ESP01" flash fw.bin --port w1.tty --after no-reset
stop_sim
check "flash: the stub ran under QEMU" grep -q 'stub: running under QEMU' w1.log
check "flash: header set for the chip" test "$(byte w1.flash 2)$(byte w1.flash 3)" = 0320
check "flash: the firmware is in flash" same_range fw.bin 4 w1.flash 4 $(( $(stat -c %s fw.bin) - 4 ))
check "flash: moved to 460800 baud by default" grep -q '^Baud:      460800$' err
check "flash: summary says MD5 verified" grep -q 'MD5 verified' out
check "flash: --after no-reset put the stub back at 115200" \
    grep -q 'the chip.s UART now runs at 115299 baud' w1.log

# A 2M+ (GENERIC) build on a 1 MiB chip boots, but MicroPython finds no room
# for a filesystem (facts 3: it would start at 0x100000): flashed, with a
# warning that names what the user will lose, not refused.
"$MKFW" --variant 2M fw2m.bin
start_stub_sim g1
expect_ok "flash: a 2M+ build on a 1 MiB chip is written" \
    "$ESP01" flash fw2m.bin --port g1.tty --after no-reset
stop_sim
check "flash: 2M+ on 1 MiB: warned that nothing saved survives a reset" \
    grep -q "^esp01: warning: 'fw2m.bin' with 1 MiB of flash: no filesystem.*nothing saved survives a reset" err
check "flash: 2M+ on 1 MiB: the firmware is in flash" \
    same_range fw2m.bin 4 g1.flash 4 $(( $(stat -c %s fw2m.bin) - 4 ))

# Paths relative to where romsim starts: QEMU runs in a directory of its
# own, so romsim must resolve --stub-elf (and --flash) before that.
rel_elf=$(realpath --relative-to="$TMP" "$STUB_ELF")
check "flash: the stub's path given relative ($rel_elf)" test "${rel_elf#/}" = "$rel_elf"
rm -f rel.tty
"$SIM" --link "$TMP/rel.tty" --flash rel.flash --log rel.log --stub --stub-elf "$rel_elf" \
    --throttle >/dev/null &
SIM_PID=$!
for _ in $(seq 100); do [ -e rel.tty ] && break; sleep 0.05; done
expect_ok "flash: through a stub named by a relative --stub-elf" \
    "$ESP01" flash fw.bin --port rel.tty --after no-reset
stop_sim
check "flash: relative --stub-elf: the stub ran under QEMU" grep -q 'stub: running under QEMU' rel.log
check "flash: relative --stub-elf: the firmware is in flash" \
    same_range fw.bin 4 rel.flash 4 $(( $(stat -c %s fw.bin) - 4 ))

# A project: built for the connected chip, then only what changed.
fill p.flash 1048576 377
start_stub_sim p
expect_ok "flash: project folder through the stub" \
    "$ESP01" flash proj --firmware fw.bin --port p.tty --baud 921600 --after no-reset
stop_sim
"$ESP01" build proj --firmware fw.bin -o p1.bin -q --flash-size 1M >/dev/null
check "flash: project image in flash" same_range p1.bin 4 p.flash 4 $(( $(stat -c %s p1.bin) - 4 ))
check "flash: blank sectors already blank are not touched" \
    grep -Eq '^Wrote [0-9]+ bytes at 0x000000 in [0-9.]+ s: 1[0-9][0-9] of 251 sectors differed' out

printf 'print("hello, changed")\n' > proj/main.py
start_stub_sim p
expect_ok "flash: again after changing main.py" \
    "$ESP01" flash proj --firmware fw.bin --port p.tty --baud 921600 --after no-reset
stop_sim
"$ESP01" build proj --firmware fw.bin -o p2.bin -q --flash-size 1M >/dev/null
check "flash: the new image in flash" same_range p2.bin 4 p.flash 4 $(( $(stat -c %s p2.bin) - 4 ))
differed=$(sed -n 's/.* \([0-9]*\) of 251 sectors differed.*/\1/p' out)
check "flash: only the changed file's blocks and metadata were written ($differed sectors)" \
    test -n "$differed" -a "${differed:-99}" -le 4 -a "${differed:-0}" -ge 1
wire=$(sed -n 's/.* \([0-9]*\) bytes on the wire.*/\1/p' out)
check "flash: a few KiB on the wire ($wire bytes)" test "${wire:-999999}" -lt 20000

start_stub_sim p
expect_ok "flash: nothing changed" \
    "$ESP01" flash proj --firmware fw.bin --port p.tty --after no-reset
stop_sim
check "flash: nothing written when nothing changed" grep -q 'already holds all 1028096 bytes' out

start_stub_sim p
expect_ok "flash: --full writes every sector" \
    "$ESP01" flash proj --firmware fw.bin --port p.tty --after no-reset --full
stop_sim
check "flash: --full says all 251" grep -q ' 251 of 251 sectors differed' out
check "flash: still the same image" same_range p2.bin 4 p.flash 4 $(( $(stat -c %s p2.bin) - 4 ))

# A chip full of random bytes: everything is written, blank sectors by erasing.
head -c 1048576 /dev/urandom > r.flash
cp r.flash r.orig
start_stub_sim r
expect_ok "flash: over random flash contents" \
    "$ESP01" flash p2.bin --port r.tty --baud 921600 --after no-reset
stop_sim
check "flash: every sector differed" grep -q ' 251 of 251 sectors differed' out
check "flash: the image replaced the noise" same_range p2.bin 4 r.flash 4 $(( $(stat -c %s p2.bin) - 4 ))
blank=$(sed -n 's/.* \([0-9]*\) blank sectors only erased.*/\1/p' out)
check "flash: blank sectors only erased ($blank)" test "${blank:-0}" -ge 90
check "flash: the SDK area after the image untouched" \
    same_range r.flash 1028096 r.orig 1028096 $((1048576 - 1028096))

# The line dies half-way (the simulated chip vanishes mid-write): a one-line
# error naming where, and the next run finishes the job without rewriting
# what already arrived.
head -c 1048576 /dev/urandom > c.flash
start_stub_sim c
"$ESP01" flash p2.bin --port c.tty --baud 921600 --after no-reset >out 2>err &
fpid=$!
for _ in $(seq 300); do grep -q 'Writing:  [3-9]0%' err 2>/dev/null && break; sleep 0.05; done
stop_sim
wait "$fpid"
rc=$?
check "cut mid-write: exit status non-zero" test "$rc" -ne 0
check "cut mid-write: a one-line error naming the offset" \
    test "$(grep -c '^esp01: ' err)" -eq 1 -a "$(grep -Ec '^esp01: .* at 0x[0-9a-f]{6}' err)" -eq 1
start_stub_sim c
expect_ok "cut mid-write: the next run finishes" \
    "$ESP01" flash p2.bin --port c.tty --baud 921600 --after no-reset
stop_sim
check "cut mid-write: flash == image after the second run" \
    same_range p2.bin 4 c.flash 4 $(( $(stat -c %s p2.bin) - 4 ))
again=$(sed -n 's/.* in [0-9.]* s: \([0-9]*\) of 251 sectors differed.*/\1/p' out)
check "cut mid-write: the second run rewrote only what was missing ($again of 251)" \
    test "${again:-251}" -lt 200

# ---- baud rates ------------------------------------------------------------
start_stub_sim b1 --max-baud 230400
expect_ok "baud: steps down when the line does not carry the rate" \
    "$ESP01" flash small.bin --port b1.tty --baud 921600 --after no-reset
stop_sim
check "baud: says which rate it used" grep -q '921600 baud did not carry (adapter or line); using 230400' err
check "baud: written all the same" same_range small.bin 0 b1.flash 0 40000
check "baud: the stub went back by itself after each silent try" \
    test "$(grep -c 'UART now runs at 115299 baud' b1.log)" -ge 3

start_stub_sim b2 --crystal 40
expect_ok "baud: a 40 MHz crystal board" \
    "$ESP01" flash small.bin --port b2.tty --baud 921600 --after no-reset
stop_sim
check "baud: divider scaled from the ROM's (694 at 115200 -> 87)" grep -q 'stub: clkdiv 87$' b2.log
check "baud: 40 MHz board written" same_range small.bin 0 b2.flash 0 40000

# ---- the stub left running serves the next sessions -------------------------
# --after no-reset leaves the stub running at 115200: the next esp01 finds
# it (SYNC answers 0), reads the flash id through its READ_REG/WRITE_REG
# (the fake chip's SPI0 registers answer with the id romsim was given, a
# 2 MiB GigaDevice here) and uses it without another upload.
head -c 40000 /dev/urandom > small2.bin
start_stub_sim k --jedec C84015
expect_ok "kept: first session uploads the stub" \
    "$ESP01" flash small.bin --port k.tty --baud 921600 --after no-reset
check "kept: the first session started it" grep -q '^Stub:      esp01-stub 1 running$' err
expect_ok "kept: read in a second session" \
    "$ESP01" read 0 40000 -o kept.bin --port k.tty --baud 921600 --after no-reset
check "kept: read found the stub running" grep -q '^Stub:      already running, used as it is$' err
check "kept: read gives what was written" cmp -s kept.bin small.bin
expect_ok "kept: verify in a third session" \
    "$ESP01" verify small.bin --port k.tty --baud 921600 --after no-reset
check "kept: verify found the stub running" grep -q '^Stub:      already running, used as it is$' err
check "kept: verify says the flash holds it" grep -q '^Flash at 0x000000 holds small.bin (40000 bytes' out
expect_ok "kept: flash in a fourth session" \
    "$ESP01" flash small2.bin --port k.tty --baud 921600 --after no-reset
check "kept: flash found the stub running" grep -q '^Stub:      already running, used as it is$' err
check "kept: the flash id came through the stub's registers" \
    grep -q '^Connected: ESP8266EX, 2 MiB flash (JEDEC c84015)$' err
stop_sim
check "kept: the new image is in flash" same_range small2.bin 0 k.flash 0 40000
check "kept: the stub was uploaded once" test "$(grep -c 'MEM_END: jumping' k.log)" -eq 1
check "kept: QEMU ran once" test "$(grep -c 'stub: running under QEMU' k.log)" -eq 1

# ---- read ------------------------------------------------------------------
head -c 1048576 /dev/urandom > rd.flash
cp rd.flash rd.orig
start_stub_sim rd
expect_ok "read: the whole chip" "$ESP01" read -o dump.bin --port rd.tty --baud 921600 --after no-reset
stop_sim
check "read: the dump equals the flash" cmp -s dump.bin rd.orig
check "read: says MD5 checked" grep -q 'Read 1048576 bytes at 0x000000 .* into dump.bin; MD5 checked' out
start_stub_sim rd
expect_ok "read: a region" "$ESP01" read 0x99000 392K -o part.bin --port rd.tty --baud 921600 --after no-reset
stop_sim
check "read: the region equals the flash" same_range part.bin 0 rd.orig $((0x99000)) $((392 * 1024))
expect_fail "read: needs -o" 2 "give -o FILE" "$ESP01" read --port x
expect_fail "read: offset without size" 2 "OFFSET and SIZE" "$ESP01" read 0x1000 -o x.bin --port x
expect_fail "read: --no-stub cannot read" 2 "needs esp01's flasher stub" \
    "$ESP01" read -o x.bin --port rd.tty --no-stub
start_stub_sim rd
expect_fail "read: past the end of the chip" 1 "past the end of the 1 MiB flash" \
    "$ESP01" read 0xF0000 128K -o past.bin --port rd.tty
stop_sim
check "read: nothing written on failure" test ! -e past.bin

# Ctrl-C in the middle: no file, no temporary file, one line, non-zero.
start_stub_sim rd
"$ESP01" read -o cut.bin --port rd.tty --baud 115200 >out 2>err &
rpid=$!
for _ in $(seq 100); do grep -q 'Reading' err 2>/dev/null && break; sleep 0.1; done
sleep 1
kill -INT "$rpid"
wait "$rpid"
rc=$?
stop_sim
check "read: Ctrl-C ends it with an error" test "$rc" -ne 0
check "read: Ctrl-C names where it stopped" grep -Eq '^esp01: .*interrupted at 0x[0-9a-f]{6}' err
check "read: no output or temporary file after Ctrl-C" sh -c "! ls '$TMP' | grep -q '^cut\\.bin'"

# ---- verify ------------------------------------------------------------------
start_stub_sim p
expect_ok "verify: the flash holds the image" "$ESP01" verify p2.bin --port p.tty --after no-reset
stop_sim
check "verify: says so" grep -q 'holds p2.bin (1028096 bytes, 251 sectors' out
# Damage the firmware, the root directory's pair, lib/data.py's block and
# free space: each differing sector is named by what the build put there.
data_at=$(grep -obaF "$(head -c 40 proj/lib/data.py)" p2.bin | head -1 | cut -d: -f1)
data_sec=$((data_at / 4096 * 4096))
for at in $((0x1234)) $((0x99000)) $((data_at + 100)) $((0xF5000)); do
    printf 'XY' | dd of=p.flash bs=1 seek="$at" conv=notrunc status=none
done
start_stub_sim p
"$ESP01" verify p2.bin --port p.tty --after no-reset >out 2>err
check "verify: exit status 1 when sectors differ" test $? -eq 1
stop_sim
check "verify: counts them" grep -q '^4 of 251 sectors differ from p2.bin:$' out
check "verify: the firmware's sector by offset" grep -q '^  0x001000-0x002000  1 sector  firmware$' out
check "verify: the partition's first block is the root directory" \
    grep -q '^  0x099000-0x09a000  1 sector  / (directory)$' out
check "verify: a file's block is named by the file" \
    grep -q "^  $(printf '0x%06x-0x%06x' $data_sec $((data_sec + 4096)))  1 sector  lib/data.py\$" out
check "verify: unused blocks are free space" grep -q '^  0x0f5000-0x0f6000  1 sector  free space$' out

# ---- erase -------------------------------------------------------------------
head -c 1048576 /dev/zero > e.flash
start_stub_sim e
expect_ok "erase: one sector through the stub" "$ESP01" erase --region 0x80000 0x1000 --port e.tty --after no-reset
stop_sim
check "erase: exactly that sector (no neighbour with the stub)" all_byte e.flash $((0x80000)) 4096 377
check "erase: nothing else" all_byte e.flash $((0x81000)) $((0x100000 - 0x81000)) 000
check "erase: nothing before" all_byte e.flash 0 $((0x80000)) 000
start_stub_sim e
expect_ok "erase: the whole chip" "$ESP01" erase --port e.tty --after no-reset
stop_sim
check "erase: the whole chip is blank" all_byte e.flash 0 1048576 377
head -c 1048576 /dev/zero > e.flash
start_stub_sim e
expect_fail "erase: a region past the end of the chip" 1 \
    "the region to erase \(0x0ff000..0x101000\) is past the end of the 1 MiB flash" \
    "$ESP01" erase --region 0xFF000 0x2000 --port e.tty --after no-reset
check "erase: nothing erased when refused" all_byte e.flash 0 1048576 000
expect_fail "verify: an image that runs past the end" 1 \
    "'p2.bin' \(1028096 bytes\) \(0x080000..0x17b000\) is past the end of the 1 MiB flash" \
    "$ESP01" verify p2.bin --offset 0x80000 --port e.tty --after no-reset
stop_sim

# ---- when the stub cannot be used ----------------------------------------------
start_stub_sim n1 --refuse-upload
expect_ok "fallback: the ROM refuses the upload" \
    "$ESP01" flash small.bin --port n1.tty --after no-reset
stop_sim
check "fallback: said in one line" \
    test "$(grep -c 'the flasher stub did not start' err)" -eq 1
check "fallback: written through the ROM loader" same_range small.bin 0 n1.flash 0 40000

start_stub_sim n2 --hang-reset-after 1500
expect_ok "fallback: the uploaded stub never greets" \
    "$ESP01" flash small.bin --port n2.tty --before no-reset --after no-reset --wait 20
stop_sim
check "fallback: asks for a power cycle, then goes on" grep -q 'Hold GPIO0 low and power-cycle' err
check "fallback: no greeting is named" grep -q 'did not greet' err
check "fallback: written through the ROM loader after the reset" \
    same_range small.bin 0 n2.flash 0 40000

start_stub_sim n3
expect_ok "--no-stub: the ROM loader on a stub-capable chip" \
    "$ESP01" flash small.bin --port n3.tty --no-stub --after no-reset
stop_sim
check "--no-stub: nothing uploaded" sh -c "! grep -q MEM_BEGIN '$TMP/n3.log'"

# ---- faults on the line -----------------------------------------------------
head -c 200000 /dev/urandom > fimg.bin
for seed in 1 2 3; do
    fill "fs$seed.flash" 1048576 000
    start_stub_sim "fs$seed" --seed "$seed" --drop 0.01 --corrupt 0.01 --stall 0.005 --stall-ms 1500
    "$ESP01" flash fimg.bin --port "fs$seed.tty" --after no-reset >out 2>err
    rc=$?
    stop_sim
    if [ $rc -eq 0 ]; then
        check "faults seed $seed: done means the flash holds the image" same_range fimg.bin 0 "fs$seed.flash" 0 200000
    elif all_byte "fs$seed.flash" 0 1048576 000; then
        # Failed before anything was written (connecting, the baud change).
        check "faults seed $seed: untouched flash, a one-line error" \
            test "$(grep '^esp01: ' err | grep -vc '^esp01: warning: ')" -eq 1
    else
        check "faults seed $seed: a one-line error naming an offset" grep -Eq "^esp01: .* at 0x[0-9a-f]{6}" err
    fi
done
finish
